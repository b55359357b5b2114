{#- Per column of a table: rows, nulls and distinct values; `pipeline init --from-table`
    proposes features from these and the column types. Names are quoted as one identifier
    each, so `sample.yr`, `kunde id` or `select` are columns like any other.

    context: table, columns (names)                                                        -#}
{% for c in columns %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    {{ c | lit }} AS column_name,
    count(*) AS row_count,
    count(*) - count({{ c | column }}) AS nulls,
    count(DISTINCT {{ c | column }}) AS distinct_values
FROM {{ table | ident }}
{% endfor %}
