{#- Data contract of one raw table, in one pass: for each rule, how many rows break it.
    Row rules become a sum over a CASE; `unique` and `distinct_at_most` look at the whole column.

    context: table, id, rules [{kind, column, values, limit}]
    rule kinds: not_null, unique, accepted (values), min / max (limit), numeric, finite,
                whole, not_all_null, distinct_at_most (limit)                              -#}
{% from 'contracts/_rules.sql' import broken with context %}
SELECT
{% for rule in rules %}
{% set c = rule.column | column %}
{% if rule.kind == 'unique' %}
    (SELECT count(*) FROM (
        SELECT {{ c }} FROM {{ table | ident }} WHERE {{ c }} IS NOT NULL
        GROUP BY {{ c }} HAVING count(*) > 1) AS d) AS {{ ('rule_' ~ loop.index0) | ident }}
{% elif rule.kind == 'distinct_at_most' %}
    (SELECT CASE WHEN count(DISTINCT {{ c }}) > {{ rule.limit | int }} THEN count(DISTINCT {{ c }}) ELSE 0 END
     FROM {{ table | ident }}) AS {{ ('rule_' ~ loop.index0) | ident }}
{% elif rule.kind == 'not_all_null' %}
    (SELECT CASE WHEN count(*) > 0 AND count({{ c }}) = 0 THEN count(*) ELSE 0 END
     FROM {{ table | ident }}) AS {{ ('rule_' ~ loop.index0) | ident }}
{% else %}
    (SELECT sum(CASE WHEN {{ broken(rule) | trim }} THEN 1 ELSE 0 END) FROM {{ table | ident }})
        AS {{ ('rule_' ~ loop.index0) | ident }}
{% endif %}
    {{- ',' if not loop.last }}
{% endfor %}
