{#- Regression metrics, overall and per segment. R² and explained variance are NULL when the
    labels are constant (scikit-learn returns 1.0 or 0.0 there by convention); the mean squared
    log error is NULL when a label or prediction is negative (scikit-learn raises an error).

    context: see _scored.sql, plus run_id                                                  -#}
WITH
{% include 'evaluate/_scored.sql' %},
joined AS (
    SELECT
        slice, segment,
        CAST(y AS {{ types.float }}) AS y,
        CAST(prediction AS {{ types.float }}) AS yhat
    FROM scored
),
moments AS (
    SELECT
        slice, segment,
        CAST(count(*) AS {{ types.float }}) AS n,
        avg(y) AS y_mean,
        avg(yhat - y) AS err_mean,
        avg(abs(yhat - y)) AS mae,
        avg((yhat - y) * (yhat - y)) AS mse,
        CASE WHEN min(y) >= 0 AND min(yhat) >= 0
             THEN avg((ln(1 + yhat) - ln(1 + y)) * (ln(1 + yhat) - ln(1 + y))) END AS msle
    FROM joined
    GROUP BY slice, segment
),
spread AS (
    SELECT
        j.slice, j.segment,
        sum((j.y - m.y_mean) * (j.y - m.y_mean)) AS ss_tot,
        sum((j.y - j.yhat) * (j.y - j.yhat)) AS ss_res,
        sum((j.yhat - j.y - m.err_mean) * (j.yhat - j.y - m.err_mean)) AS ss_err
    FROM joined AS j
    JOIN moments AS m ON m.slice = j.slice AND m.segment = j.segment
    GROUP BY j.slice, j.segment
),
errors AS (
    SELECT slice, segment, abs(yhat - y) AS abs_err FROM joined
),
medians AS (
    {{ adapter.dispatch('grouped_median')('abs_err', 'errors', ['slice', 'segment']) }}
),
metrics AS (
    SELECT slice, segment, 'rows' AS metric, n AS value FROM moments
    UNION ALL SELECT slice, segment, 'mae', mae FROM moments
    UNION ALL SELECT slice, segment, 'mse', mse FROM moments
    UNION ALL SELECT slice, segment, 'rmse', sqrt(mse) FROM moments
    UNION ALL SELECT slice, segment, 'msle', msle FROM moments
    UNION ALL SELECT slice, segment, 'median_absolute_error', median FROM medians
    UNION ALL SELECT slice, segment, 'r2', 1 - ss_res / NULLIF(ss_tot, 0) FROM spread
    UNION ALL SELECT slice, segment, 'explained_variance', 1 - ss_err / NULLIF(ss_tot, 0) FROM spread
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    slice, segment, metric, value
FROM metrics
