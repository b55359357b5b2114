{#- The median of a column of a relation, as a scalar subquery.
    BigQuery has no median aggregate; PERCENTILE_CONT is analytic there, hence the wrapper. -#}
{% macro default__median(column, relation) -%}
(SELECT quantile_cont({{ column | ident }}, 0.5) FROM {{ relation }})
{%- endmacro %}

{% macro bigquery__median(column, relation) -%}
(SELECT ANY_VALUE(m) FROM (SELECT PERCENTILE_CONT({{ column | ident }}, 0.5) OVER () AS m FROM {{ relation }}))
{%- endmacro %}

{#- The median of `expr` per group of `relation`: a query with the group columns and `median`. -#}
{% macro default__grouped_median(expr, relation, groups) -%}
SELECT {{ groups | join(', ') }}, quantile_cont({{ expr }}, 0.5) AS median
FROM {{ relation }}
GROUP BY {{ groups | join(', ') }}
{%- endmacro %}

{% macro bigquery__grouped_median(expr, relation, groups) -%}
SELECT {{ groups | join(', ') }}, ANY_VALUE(m) AS median
FROM (
    SELECT {{ groups | join(', ') }},
           PERCENTILE_CONT({{ expr }}, 0.5) OVER (PARTITION BY {{ groups | join(', ') }}) AS m
    FROM {{ relation }}
) AS q
GROUP BY {{ groups | join(', ') }}
{%- endmacro %}
