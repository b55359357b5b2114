{#- Data contract of one raw table, in one pass: for each rule, how many rows break it.
    Row rules become a sum over a CASE; `unique` and `distinct_at_most` look at the whole column.
    `unique` counts the rows with a duplicated value, and the values (`values_<i>`).

    context: table, id, rules [{kind, column, values, limit}]
    rule kinds: not_null, unique, accepted (values), min / max (limit), numeric, finite,
                whole, not_all_null, distinct_at_most (limit)                              -#}
{% from 'contracts/_rules.sql' import broken with context %}
{#- One scan with one aggregate per rule, not a scalar subquery per rule: DuckDB joins scalar
    subqueries one into the next, which passes its expression depth limit at a few hundred
    rules (a config with hundreds of features). Only `unique` needs its own GROUP BY. -#}
SELECT *
FROM (
    SELECT
        count(*) AS _rows
{% for rule in rules if rule.kind != 'unique' %}
{% set c = rule.column | column %}
{% set name = ('rule_' ~ rules.index(rule)) | ident %}
{% if rule.kind == 'distinct_at_most' %}
        , CASE WHEN count(DISTINCT {{ c }}) > {{ rule.limit | int }} THEN count(DISTINCT {{ c }}) ELSE 0 END AS {{ name }}
{% elif rule.kind == 'not_all_null' %}
        , CASE WHEN count(*) > 0 AND count({{ c }}) = 0 THEN count(*) ELSE 0 END AS {{ name }}
{% else %}
        , sum(CASE WHEN {{ broken(rule) | trim }} THEN 1 ELSE 0 END) AS {{ name }}
{% endif %}
{% endfor %}
    FROM {{ table | ident }}
) AS per_row
{% for rule in rules if rule.kind == 'unique' %}
{% set c = rule.column | column %}
{#- the rows whose value another row has too, and how many such values (for the sample) #}
CROSS JOIN (
    SELECT
        COALESCE(sum(d.n), 0) AS {{ ('rule_' ~ rules.index(rule)) | ident }},
        count(*) AS {{ ('values_' ~ rules.index(rule)) | ident }}
    FROM (
        SELECT count(*) AS n FROM {{ table | ident }} WHERE {{ c }} IS NOT NULL
        GROUP BY {{ c }} HAVING count(*) > 1) AS d
) AS {{ ('unique_' ~ rules.index(rule)) | ident }}
{% endfor %}
