{#- Model-ready features from cleaned rows, with every statistic frozen in as a literal.
    The same rendered SQL runs on the warehouse (preprocess, predict) and on a DataFrame in an
    in-memory DuckDB (TrainedModel.predict), which is what keeps training and serving equal.

    context: relation (SQL of cleaned rows), datasets (list, or none for all), id,
             label (or none), plans (one per feature, made by pipeline.features.plan)

    plan: column, type, fill (imputation literal or none), indicator (column name or none)
          numeric:     name, center, scale   -> (value - center) / scale
          categorical: encode, categories [{value, name, code}], unknown (column name)
             onehot  -> one 0/1 column per category of the frozen vocabulary, plus `unknown`
                        for a value the training split never had (or a missing one)
             ordinal -> the category's code, -1 when unknown                               -#}
SELECT
    {{ id | ident }},
{% if label is not none %}
    {{ label | ident }},
{% endif %}
{% for p in plans %}
{% set raw = p.column | ident %}
{% set v = ('COALESCE(' ~ raw ~ ', ' ~ (p.fill | lit) ~ ')') if p.fill is not none else raw %}
{% if p.indicator %}
    CAST(CASE WHEN {{ raw }} IS NULL THEN 1 ELSE 0 END AS {{ types.float }}) AS {{ p.indicator | ident }},
{% endif %}
{% if p.type == 'numeric' %}
{% if p.center == 0 and p.scale == 1 %}
    CAST({{ v }} AS {{ types.float }}) AS {{ p.name | ident }},
{% else %}
    CAST(({{ v }} - {{ p.center | lit }}) / {{ p.scale | lit }} AS {{ types.float }}) AS {{ p.name | ident }},
{% endif %}
{% elif p.encode == 'onehot' %}
{% for c in p.categories %}
    CAST(CASE WHEN {{ v }} = {{ c.value | lit }} THEN 1 ELSE 0 END AS {{ types.float }}) AS {{ c.name | ident }},
{% endfor %}
    CAST(CASE
        WHEN {{ v }} IS NULL{% if p.categories %} OR {{ v }} NOT IN ({% for c in p.categories %}{{ c.value | lit }}{{ ', ' if not loop.last }}{% endfor %}){% endif %}

        THEN 1 ELSE 0
    END AS {{ types.float }}) AS {{ p.unknown | ident }},
{% else %}
    CAST(CASE {{ v }}
{% for c in p.categories %}
        WHEN {{ c.value | lit }} THEN {{ c.code }}
{% endfor %}
        ELSE -1
    END AS {{ types.float }}) AS {{ p.name | ident }},
{% endif %}
{% endfor %}
    dataset
FROM {{ relation }} AS c
{% if datasets is not none %}
WHERE dataset IN ({% for d in datasets %}{{ d | lit }}{{ ', ' if not loop.last }}{% endfor %})
{% endif %}
