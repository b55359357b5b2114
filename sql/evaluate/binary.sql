{#- Binary classification metrics, overall and per segment, in one pass.

    `positive` is the class whose probability is in `score` (scikit-learn's classes_[1]). With a
    `threshold`, a row is predicted positive when score >= threshold; without one, the model's own
    predicted label is used. Every metric equals scikit-learn's; where scikit-learn warns and
    returns 0 or nan for an undefined metric (precision with nothing predicted positive, ROC AUC
    or average precision with one class present), the value here is NULL.

    ROC AUC is the Mann-Whitney statistic with tied scores counted half, which is what
    scikit-learn's trapezoidal roc_auc_score computes. Average precision is scikit-learn's
    step-wise sum over distinct scores: (recall gained at the score) x (precision at it). Log loss
    clips probabilities to [eps, 1 - eps] with eps the float64 machine epsilon, as scikit-learn.

    context: see _scored.sql, plus positive, threshold (or none), run_id                    -#}
WITH
{% include 'evaluate/_scored.sql' %},
labelled AS (
    SELECT
        slice, segment, s,
        CASE WHEN y = {{ positive | lit }} THEN 1 ELSE 0 END AS y,
{% if threshold is not none %}
        CASE WHEN s >= {{ threshold | lit }} THEN 1 ELSE 0 END AS yhat,
{% else %}
        CASE WHEN prediction = {{ positive | lit }} THEN 1 ELSE 0 END AS yhat,
{% endif %}
        CASE
            WHEN s < 2.220446049250313e-16 THEN 2.220446049250313e-16
            WHEN s > 1 - 2.220446049250313e-16 THEN 1 - 2.220446049250313e-16
            ELSE s
        END AS p
    FROM scored
),
counts AS (
    SELECT
        slice, segment,
        CAST(count(*) AS {{ types.float }}) AS n,
        CAST(sum(y * yhat) AS {{ types.float }}) AS tp,
        CAST(sum((1 - y) * yhat) AS {{ types.float }}) AS fp,
        CAST(sum(y * (1 - yhat)) AS {{ types.float }}) AS fn,
        CAST(sum((1 - y) * (1 - yhat)) AS {{ types.float }}) AS tn,
        avg((s - y) * (s - y)) AS brier,
        -avg(y * ln(p) + (1 - y) * ln(1 - p)) AS log_loss
    FROM labelled
    GROUP BY slice, segment
),
by_score AS (
    SELECT
        slice, segment, s,
        CAST(sum(y) AS {{ types.float }}) AS pos,
        CAST(sum(1 - y) AS {{ types.float }}) AS neg
    FROM labelled
    GROUP BY slice, segment, s
),
ranked AS (
    SELECT
        slice, segment, pos, neg,
        COALESCE(sum(neg) OVER (
            PARTITION BY slice, segment ORDER BY s
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS neg_below,
        sum(pos) OVER (
            PARTITION BY slice, segment ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS tp_at,
        sum(neg) OVER (
            PARTITION BY slice, segment ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS fp_at
    FROM by_score
),
ranking AS (
    SELECT
        slice, segment,
        sum(pos * (neg_below + 0.5 * neg)) / NULLIF(sum(pos) * sum(neg), 0) AS roc_auc,
        CASE WHEN sum(pos) > 0 THEN sum(pos * tp_at / (tp_at + fp_at)) / sum(pos) END
            AS average_precision
    FROM ranked
    GROUP BY slice, segment
),
metrics AS (
    SELECT slice, segment, 'rows' AS metric, n AS value FROM counts
    UNION ALL SELECT slice, segment, 'accuracy', (tp + tn) / NULLIF(n, 0) FROM counts
    UNION ALL SELECT slice, segment, 'precision', tp / NULLIF(tp + fp, 0) FROM counts
    UNION ALL SELECT slice, segment, 'recall', tp / NULLIF(tp + fn, 0) FROM counts
    UNION ALL SELECT slice, segment, 'f1', 2 * tp / NULLIF(2 * tp + fp + fn, 0) FROM counts
    UNION ALL SELECT slice, segment, 'positive_rate', (tp + fp) / NULLIF(n, 0) FROM counts
    UNION ALL SELECT slice, segment, 'prevalence', (tp + fn) / NULLIF(n, 0) FROM counts
    UNION ALL SELECT slice, segment, 'log_loss', log_loss FROM counts
    UNION ALL SELECT slice, segment, 'brier', brier FROM counts
    UNION ALL SELECT slice, segment, 'tp', tp FROM counts
    UNION ALL SELECT slice, segment, 'fp', fp FROM counts
    UNION ALL SELECT slice, segment, 'fn', fn FROM counts
    UNION ALL SELECT slice, segment, 'tn', tn FROM counts
    UNION ALL SELECT slice, segment, 'roc_auc', roc_auc FROM ranking
    UNION ALL SELECT slice, segment, 'average_precision', average_precision FROM ranking
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    slice, segment, metric, value
FROM metrics
