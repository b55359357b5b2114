{#- Binary classification metrics over one model's holdout predictions, joined to the labels.
    `positive` is the class whose probability is in `score` (scikit-learn's classes_[1]).
    An undefined metric (precision with no predicted positives, ROC AUC with one class) is NULL,
    not an error: scikit-learn returns 0 or nan with a warning there.

    ROC AUC is the Mann-Whitney statistic with tied scores counted half, which is exactly what
    scikit-learn's trapezoidal roc_auc_score computes.

    context: predictions, labels (tables), model_id, dataset, id, label, positive, run_id     -#}
WITH joined AS (
    SELECT
        CASE WHEN l.{{ label | ident }} = {{ positive | lit }} THEN 1 ELSE 0 END AS y,
        CASE WHEN p.prediction = {{ positive | lit }} THEN 1 ELSE 0 END AS yhat,
        p.score AS s
    FROM {{ predictions | ident }} AS p
    JOIN {{ labels | ident }} AS l ON l.{{ id | ident }} = p.{{ id | ident }}
    WHERE p.model_id = {{ model_id | lit }} AND p.dataset = {{ dataset | lit }} AND l.dataset = {{ dataset | lit }}
),
counts AS (
    SELECT
        CAST(count(*) AS {{ types.float }}) AS n,
        CAST(sum(y * yhat) AS {{ types.float }}) AS tp,
        CAST(sum((1 - y) * yhat) AS {{ types.float }}) AS fp,
        CAST(sum(y * (1 - yhat)) AS {{ types.float }}) AS fn,
        CAST(sum((1 - y) * (1 - yhat)) AS {{ types.float }}) AS tn
    FROM joined
),
by_score AS (
    SELECT s, CAST(sum(y) AS {{ types.float }}) AS pos, CAST(sum(1 - y) AS {{ types.float }}) AS neg
    FROM joined
    GROUP BY s
),
ranked AS (
    SELECT pos, neg,
           COALESCE(sum(neg) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS neg_below
    FROM by_score
),
auc AS (
    SELECT sum(pos * (neg_below + 0.5 * neg)) / NULLIF(sum(pos) * sum(neg), 0) AS value
    FROM ranked
),
metrics AS (
    SELECT 'rows' AS metric, n AS value FROM counts
    UNION ALL SELECT 'accuracy', (tp + tn) / NULLIF(n, 0) FROM counts
    UNION ALL SELECT 'precision', tp / NULLIF(tp + fp, 0) FROM counts
    UNION ALL SELECT 'recall', tp / NULLIF(tp + fn, 0) FROM counts
    UNION ALL SELECT 'f1', 2 * tp / NULLIF(2 * tp + fp + fn, 0) FROM counts
    UNION ALL SELECT 'roc_auc', value FROM auc
)
SELECT {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset, metric, value
FROM metrics
