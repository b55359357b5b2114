{#- How the overall metrics moved from model `a` to model `b` on one dataset. A metric only one
    of them has shows NULL for the other.

    context: metrics (table), a, b (model ids), dataset                                    -#}
WITH a AS (
    SELECT metric, value FROM {{ metrics | ident }}
    WHERE model_id = {{ a | lit }} AND dataset = {{ dataset | lit }} AND slice = 'all'
),
b AS (
    SELECT metric, value FROM {{ metrics | ident }}
    WHERE model_id = {{ b | lit }} AND dataset = {{ dataset | lit }} AND slice = 'all'
)
SELECT
    COALESCE(a.metric, b.metric) AS metric,
    a.value AS {{ a | ident }},
    b.value AS {{ b | ident }},
    b.value - a.value AS change
FROM a
FULL OUTER JOIN b ON a.metric = b.metric
ORDER BY metric
