{#- A relation with one column `i` holding 0 .. rows - 1. -#}
{% macro default__row_numbers(rows) -%}
SELECT range AS i FROM range({{ rows | int }})
{%- endmacro %}

{% macro bigquery__row_numbers(rows) -%}
SELECT i FROM UNNEST(GENERATE_ARRAY(0, {{ rows | int }} - 1)) AS i
{%- endmacro %}
