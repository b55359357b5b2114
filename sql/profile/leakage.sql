{#- How well each column predicts the label on its own, for `pipeline init`: a column that does
    so almost perfectly is usually the label in disguise (filled in after the outcome), and a
    model trained on it is useless where that column is not yet known.

    measure 'auc':   binary label, numeric column: rank-based ROC AUC of the value (ties share
                     the average rank; NULL values left out)
    measure 'value': balanced accuracy of predicting the label by the majority label of each
                     value (NULL a value of its own); for columns with few values only
    measure 'null':  balanced accuracy of predicting the label from whether the column is NULL
    measure 'corr':  regression label, numeric column: Pearson correlation

    context: table, label, positive (the positive label value, binary only),
             auc, value, nulls, corr (lists of column names)                                -#}
{% set string = types.string %}
{% set float = types.float %}
{% macro balanced(group_expr) -%}
(
    SELECT AVG(COALESCE(h.hit, 0) / cls.total)
    FROM (SELECT y, SUM(n) AS total FROM ({{ cells(group_expr) }}) AS c GROUP BY y) AS cls
    LEFT JOIN (
        SELECT c.y, SUM(c.n) AS hit
        FROM ({{ cells(group_expr) }}) AS c
        JOIN (
            SELECT g, y FROM (
                SELECT g, y, ROW_NUMBER() OVER (PARTITION BY g ORDER BY n DESC, y) AS r
                FROM ({{ cells(group_expr) }}) AS c0
            ) AS ranked WHERE r = 1
        ) AS p ON p.g = c.g AND p.y = c.y
        GROUP BY c.y
    ) AS h ON h.y = cls.y
)
{%- endmacro %}
{% macro cells(group_expr) -%}
SELECT g, y, COUNT(*) AS n FROM (
    SELECT {{ group_expr }} AS g, CAST({{ label | column }} AS {{ string }}) AS y
    FROM {{ table | ident }} WHERE {{ label | column }} IS NOT NULL
) AS cg GROUP BY g, y
{%- endmacro %}
SELECT CAST(NULL AS {{ string }}) AS column_name, CAST(NULL AS {{ string }}) AS measure, CAST(NULL AS {{ float }}) AS value
FROM (SELECT 1 AS one) AS nothing WHERE FALSE
{% for c in auc %}
UNION ALL
SELECT {{ c | lit }}, 'auc', (
    SELECT (SUM(pos * (COALESCE(below, 0) + (n + 1) / 2.0)) - SUM(pos) * (SUM(pos) + 1) / 2.0)
        / NULLIF(SUM(pos) * (SUM(n) - SUM(pos)), 0)
    FROM (
        SELECT pos, n, SUM(n) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS below
        FROM (
            SELECT x, COUNT(*) AS n, SUM(y) AS pos FROM (
                SELECT CAST({{ c | column }} AS {{ float }}) AS x,
                       CASE WHEN CAST({{ label | column }} AS {{ string }}) = {{ positive | lit }} THEN 1 ELSE 0 END AS y
                FROM {{ table | ident }}
                WHERE {{ c | column }} IS NOT NULL AND {{ label | column }} IS NOT NULL
            ) AS xy GROUP BY x
        ) AS per_value
    ) AS ranked
)
{% endfor %}
{% for c in value %}
UNION ALL
SELECT {{ c | lit }}, 'value', {{ balanced("CASE WHEN " ~ (c | column) ~ " IS NULL THEN 'n' ELSE CONCAT('v', CAST(" ~ (c | column) ~ " AS " ~ string ~ ")) END") }}
{% endfor %}
{% for c in nulls %}
UNION ALL
SELECT {{ c | lit }}, 'null', {{ balanced("CASE WHEN " ~ (c | column) ~ " IS NULL THEN 'n' ELSE 'v' END") }}
{% endfor %}
{% for c in corr %}
UNION ALL
SELECT {{ c | lit }}, 'corr', (
    SELECT CORR(CAST({{ c | column }} AS {{ float }}), CAST({{ label | column }} AS {{ float }}))
    FROM {{ table | ident }}
)
{% endfor %}
