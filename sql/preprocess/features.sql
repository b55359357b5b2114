{#- Model-ready features from cleaned rows, with every statistic frozen in as a literal.
    The same rendered SQL runs on the warehouse (preprocess, predict) and on a DataFrame in an
    in-memory DuckDB (TrainedModel.predict), which is what keeps training and serving equal.

    context: relation (SQL of cleaned rows), datasets (list, or none for all), id,
             label (or none), plans (one per feature, made by pipeline.features.plan)

    plan: column, type, fill (imputation literal or none), indicator (column name or none)
          numeric:     name, center, scale, clip ([low, high] or none)
                       -> clip(value, low, high), then (value - center) / scale
          categorical: encode, categories [{value, name, code, freq}], rare (or none:
                       {values, name, code, freq}), unknown (column name),
                       known (every training value)
             onehot    -> one 0/1 column per kept category, one for the rare bucket, and
                          `unknown` for a value the training split never had (or a missing one)
             ordinal   -> the category's code; rare values share one; unknown is -1
             frequency -> the category's share of training rows; unknown is 0              -#}
{% set in_list = adapter.dispatch('in_list') %}
SELECT
    {{ id | ident }} AS {{ id | ident }},
{% if label is not none %}
    {{ label | ident }} AS {{ label | ident }},
{% endif %}
{% for p in plans %}
{% set raw = p.column | ident %}
{% set v = ('COALESCE(' ~ raw ~ ', ' ~ (p.fill | lit) ~ ')') if p.fill is not none else raw %}
{% if p.indicator %}
    CAST(CASE WHEN {{ raw }} IS NULL THEN 1 ELSE 0 END AS {{ types.float }}) AS {{ p.indicator | ident }},
{% endif %}
{% if p.type == 'numeric' %}
{% if p.clip is not none %}
{% set v = 'CASE WHEN ' ~ v ~ ' < ' ~ (p.clip[0] | lit) ~ ' THEN ' ~ (p.clip[0] | lit)
           ~ ' WHEN ' ~ v ~ ' > ' ~ (p.clip[1] | lit) ~ ' THEN ' ~ (p.clip[1] | lit)
           ~ ' ELSE ' ~ v ~ ' END' %}
{% endif %}
{% if p.center == 0 and p.scale == 1 %}
    CAST({{ v }} AS {{ types.float }}) AS {{ p.name | ident }},
{% else %}
    CAST(({{ v }} - {{ p.center | lit }}) / {{ p.scale | lit }} AS {{ types.float }}) AS {{ p.name | ident }},
{% endif %}
{% elif p.encode == 'onehot' %}
{% for c in p.categories %}
    CAST(CASE WHEN {{ v }} = {{ c.value | lit }} THEN 1 ELSE 0 END AS {{ types.float }}) AS {{ c.name | ident }},
{% endfor %}
{% if p.rare %}
    CAST(CASE WHEN {{ v }} IN {{ in_list(p.rare['values']) }} THEN 1 ELSE 0 END AS {{ types.float }}) AS {{ p.rare.name | ident }},
{% endif %}
    CAST(CASE
        WHEN {{ v }} IS NULL{% if p.known %} OR {{ v }} NOT IN {{ in_list(p.known) }}{% endif %}

        THEN 1 ELSE 0
    END AS {{ types.float }}) AS {{ p.unknown | ident }},
{% else %}
{% set attr = 'code' if p.encode == 'ordinal' else 'freq' %}
{% set otherwise = -1 if p.encode == 'ordinal' else 0 %}
{#- rare values in one IN list, not a WHEN each: a feature may have thousands #}
{% if p.rare %}
{% set fallback = 'CASE WHEN ' ~ v ~ ' IN ' ~ in_list(p.rare['values']) ~ ' THEN '
                  ~ (p.rare[attr] | lit) ~ ' ELSE ' ~ otherwise ~ ' END' %}
{% else %}
{% set fallback = otherwise | string %}
{% endif %}
{% if p.categories %}
    CAST(CASE {{ v }}
{% for c in p.categories %}
        WHEN {{ c.value | lit }} THEN {{ c[attr] | lit }}
{% endfor %}
        ELSE {{ fallback }}
    END AS {{ types.float }}) AS {{ p.name | ident }},
{% else %}
    CAST({{ fallback }} AS {{ types.float }}) AS {{ p.name | ident }},
{% endif %}
{% endif %}
{% endfor %}
    dataset
FROM {{ relation }} AS c
{% if datasets is not none %}
WHERE dataset IN {{ in_list(datasets) }}
{% endif %}
