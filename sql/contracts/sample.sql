{#- A few of the rows (by id) or values breaking one contract rule, for the error message.

    context: table, id, rule (as in check.sql), n                                          -#}
{% from 'contracts/_rules.sql' import broken with context %}
{% set c = rule.column | column %}
{% if rule.kind == 'unique' %}
SELECT string_agg(CAST(v AS {{ types.string }}), ', ' ORDER BY v) AS sample FROM (
    SELECT {{ c }} AS v FROM {{ table | ident }} WHERE {{ c }} IS NOT NULL
    GROUP BY {{ c }} HAVING count(*) > 1 ORDER BY {{ c }} LIMIT {{ n | int }}) AS s
{% elif rule.kind == 'distinct_at_most' %}
SELECT string_agg(CAST(v AS {{ types.string }}), ', ' ORDER BY v) AS sample FROM (
    SELECT DISTINCT {{ c }} AS v FROM {{ table | ident }} ORDER BY {{ c }} LIMIT {{ n | int }}) AS s
{% elif rule.kind == 'not_all_null' %}
SELECT CAST(NULL AS {{ types.string }}) AS sample
{% else %}
SELECT string_agg(CAST(v AS {{ types.string }}), ', ' ORDER BY v) AS sample FROM (
    SELECT {{ id | ident }} AS v FROM {{ table | ident }}
    WHERE {{ broken(rule) | trim }}
    ORDER BY {{ id | ident }} LIMIT {{ n | int }}) AS s
{% endif %}
