{#- Columns of a relation as long rows (feature, value): one row per input row and column,
    NULLs kept. One flat array per row, so the query does not nest deeper per column (a UNION
    ALL per column hits the engines' expression depth limits at a few hundred features). -#}
{% macro default__long_values(relation, columns, type, keep=[]) -%}
SELECT {% for k in keep %}u.{{ k | ident }} AS {{ k | ident }}, {% endfor %}s.feature AS feature, s.value AS value
FROM (
    SELECT {% for k in keep %}{{ k | ident }}, {% endfor %}unnest([
{% for col in columns %}
        {'feature': {{ col | lit }}, 'value': CAST({{ col | ident }} AS {{ type }})}{{ ',' if not loop.last }}
{% endfor %}
    ]) AS s
    FROM {{ relation }}
) AS u
{%- endmacro %}

{% macro bigquery__long_values(relation, columns, type, keep=[]) -%}
SELECT {% for k in keep %}r.{{ k | ident }} AS {{ k | ident }}, {% endfor %}s.feature AS feature, s.value AS value
FROM {{ relation }} AS r
CROSS JOIN UNNEST([
{% for col in columns %}
    STRUCT({{ col | lit }} AS feature, CAST(r.{{ col | ident }} AS {{ type }}) AS value){{ ',' if not loop.last }}
{% endfor %}
]) AS s
{%- endmacro %}

{#- (feature, category) string pairs given as literals, as a relation; one flat array, plus a
    NULL pair so that an empty list still has a type. -#}
{% macro default__literal_pairs(pairs) -%}
SELECT s.feature AS feature, s.category AS category
FROM (
    SELECT unnest([
        {'feature': CAST(NULL AS {{ types.string }}), 'category': CAST(NULL AS {{ types.string }})}
{% for feature, category in pairs %}
        , {'feature': {{ feature | lit }}, 'category': {{ category | lit }}}
{% endfor %}
    ]) AS s
) AS u
{%- endmacro %}

{% macro bigquery__literal_pairs(pairs) -%}
SELECT s.feature AS feature, s.category AS category
FROM UNNEST([
    STRUCT(CAST(NULL AS STRING) AS feature, CAST(NULL AS STRING) AS category)
{% for feature, category in pairs %}
    , STRUCT({{ feature | lit }} AS feature, {{ category | lit }} AS category)
{% endfor %}
]) AS s
{%- endmacro %}

{#- A double rounded down to a whole number, as an integer (exact for |x| < 2^53). -#}
{% macro default__floor_int(expr) -%}
CAST(floor({{ expr }}) AS {{ types.int }})
{%- endmacro %}

{% macro bigquery__floor_int(expr) -%}
CAST(FLOOR({{ expr }}) AS INT64)
{%- endmacro %}

{#- The lower and upper middle values of `expr` per `group` of `relation` (NULLs skipped):
    a query with the group column, `lower_mid` and `upper_mid`. Both are values of the data
    (no interpolation), so they do not depend on the order of rows or on an engine's
    interpolation formula; the median (their mean) is taken exactly in Python. -#}
{% macro default__grouped_middle(expr, relation, group) -%}
SELECT {{ group }}, quantile_disc({{ expr }}, 0.5) AS lower_mid,
       -quantile_disc(-({{ expr }}), 0.5) AS upper_mid
FROM {{ relation }}
WHERE {{ expr }} IS NOT NULL
GROUP BY {{ group }}
{%- endmacro %}

{% macro bigquery__grouped_middle(expr, relation, group) -%}
SELECT {{ group }}, ANY_VALUE(lower_mid) AS lower_mid, ANY_VALUE(upper_mid) AS upper_mid
FROM (
    SELECT {{ group }},
           PERCENTILE_DISC({{ expr }}, 0.5) OVER (PARTITION BY {{ group }}) AS lower_mid,
           -PERCENTILE_DISC(-({{ expr }}), 0.5) OVER (PARTITION BY {{ group }}) AS upper_mid
    FROM {{ relation }}
    WHERE {{ expr }} IS NOT NULL
) AS q
GROUP BY {{ group }}
{%- endmacro %}
