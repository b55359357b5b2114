{#- The median of a column of a relation, as a scalar subquery.
    BigQuery has no median aggregate; PERCENTILE_CONT is analytic there, hence the wrapper. -#}
{% macro default__median(column, relation) -%}
(SELECT quantile_cont({{ column | ident }}, 0.5) FROM {{ relation }})
{%- endmacro %}

{% macro bigquery__median(column, relation) -%}
(SELECT ANY_VALUE(m) FROM (SELECT PERCENTILE_CONT({{ column | ident }}, 0.5) OVER () AS m FROM {{ relation }}))
{%- endmacro %}
