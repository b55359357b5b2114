{#- Multiclass metrics over one model's predictions of one dataset, joined to the labels.
    Classes are the union of true and predicted labels, as scikit-learn takes them. A class
    with no predictions (or no rows) counts as precision (recall) 0 in the averages, which is
    scikit-learn's zero_division default; macro averages weigh classes equally, weighted
    averages by their number of true rows.

    context: predictions, labels (tables), model_id, dataset, id, label, run_id            -#}
WITH joined AS (
    SELECT
        CAST(l.{{ label | ident }} AS {{ types.string }}) AS y,
        CAST(p.prediction AS {{ types.string }}) AS yhat
    FROM {{ predictions | ident }} AS p
    JOIN {{ labels | ident }} AS l ON l.{{ id | ident }} = p.{{ id | ident }}
    WHERE p.model_id = {{ model_id | lit }} AND p.dataset = {{ dataset | lit }} AND l.dataset = {{ dataset | lit }}
),
classes AS (
    SELECT DISTINCT c FROM (SELECT y AS c FROM joined UNION ALL SELECT yhat AS c FROM joined) AS u
),
per_class AS (
    SELECT
        k.c,
        CAST(sum(CASE WHEN j.y = k.c AND j.yhat = k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS tp,
        CAST(sum(CASE WHEN j.y <> k.c AND j.yhat = k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS fp,
        CAST(sum(CASE WHEN j.y = k.c AND j.yhat <> k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS fn
    FROM classes AS k CROSS JOIN joined AS j
    GROUP BY k.c
),
scores AS (
    SELECT
        tp + fn AS support,
        COALESCE(tp / NULLIF(tp + fp, 0), 0) AS precision_c,
        COALESCE(tp / NULLIF(tp + fn, 0), 0) AS recall_c,
        COALESCE(2 * tp / NULLIF(2 * tp + fp + fn, 0), 0) AS f1_c
    FROM per_class
),
metrics AS (
    SELECT 'rows' AS metric, CAST(count(*) AS {{ types.float }}) AS value FROM joined
    UNION ALL
    SELECT 'accuracy', avg(CASE WHEN y = yhat THEN 1.0 ELSE 0.0 END) FROM joined
    UNION ALL SELECT 'macro_precision', avg(precision_c) FROM scores
    UNION ALL SELECT 'macro_recall', avg(recall_c) FROM scores
    UNION ALL SELECT 'macro_f1', avg(f1_c) FROM scores
    UNION ALL SELECT 'weighted_precision', sum(precision_c * support) / NULLIF(sum(support), 0) FROM scores
    UNION ALL SELECT 'weighted_recall', sum(recall_c * support) / NULLIF(sum(support), 0) FROM scores
    UNION ALL SELECT 'weighted_f1', sum(f1_c * support) / NULLIF(sum(support), 0) FROM scores
)
SELECT {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset, metric, value
FROM metrics
