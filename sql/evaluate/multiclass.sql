{#- Multiclass metrics, overall and per segment. Classes are the union of true and predicted
    labels within the group, as scikit-learn takes them. A class with no predictions (or no
    rows) counts as precision (recall) 0 in the averages, which is scikit-learn's zero_division
    default; macro averages weigh classes equally, weighted averages by their true rows.

    context: see _scored.sql, plus run_id                                                  -#}
WITH
{% include 'evaluate/_scored.sql' %},
joined AS (
    SELECT
        slice, segment,
        CAST(y AS {{ types.string }}) AS y,
        CAST(prediction AS {{ types.string }}) AS yhat
    FROM scored
),
classes AS (
    SELECT DISTINCT slice, segment, c FROM (
        SELECT slice, segment, y AS c FROM joined
        UNION ALL
        SELECT slice, segment, yhat AS c FROM joined
    ) AS u
),
per_class AS (
    SELECT
        k.slice, k.segment, k.c,
        CAST(sum(CASE WHEN j.y = k.c AND j.yhat = k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS tp,
        CAST(sum(CASE WHEN j.y <> k.c AND j.yhat = k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS fp,
        CAST(sum(CASE WHEN j.y = k.c AND j.yhat <> k.c THEN 1 ELSE 0 END) AS {{ types.float }}) AS fn
    FROM classes AS k
    JOIN joined AS j ON j.slice = k.slice AND j.segment = k.segment
    GROUP BY k.slice, k.segment, k.c
),
scores AS (
    SELECT
        slice, segment,
        tp + fn AS support,
        COALESCE(tp / NULLIF(tp + fp, 0), 0) AS precision_c,
        COALESCE(tp / NULLIF(tp + fn, 0), 0) AS recall_c,
        COALESCE(2 * tp / NULLIF(2 * tp + fp + fn, 0), 0) AS f1_c
    FROM per_class
),
averages AS (
    SELECT
        slice, segment,
        avg(precision_c) AS macro_precision,
        avg(recall_c) AS macro_recall,
        avg(f1_c) AS macro_f1,
        sum(precision_c * support) / NULLIF(sum(support), 0) AS weighted_precision,
        sum(recall_c * support) / NULLIF(sum(support), 0) AS weighted_recall,
        sum(f1_c * support) / NULLIF(sum(support), 0) AS weighted_f1
    FROM scores
    GROUP BY slice, segment
),
overall AS (
    SELECT
        slice, segment,
        CAST(count(*) AS {{ types.float }}) AS n,
        avg(CASE WHEN y = yhat THEN 1.0 ELSE 0.0 END) AS accuracy
    FROM joined
    GROUP BY slice, segment
),
metrics AS (
    SELECT slice, segment, 'rows' AS metric, n AS value FROM overall
    UNION ALL SELECT slice, segment, 'accuracy', accuracy FROM overall
    UNION ALL SELECT slice, segment, 'macro_precision', macro_precision FROM averages
    UNION ALL SELECT slice, segment, 'macro_recall', macro_recall FROM averages
    UNION ALL SELECT slice, segment, 'macro_f1', macro_f1 FROM averages
    UNION ALL SELECT slice, segment, 'weighted_precision', weighted_precision FROM averages
    UNION ALL SELECT slice, segment, 'weighted_recall', weighted_recall FROM averages
    UNION ALL SELECT slice, segment, 'weighted_f1', weighted_f1 FROM averages
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    slice, segment, metric, value
FROM metrics
