{#- Regression metrics over one model's predictions of one dataset, joined to the labels.
    R² and explained variance are NULL when the labels are constant (scikit-learn returns 1.0
    or 0.0 there by convention).

    context: predictions, labels (tables), model_id, dataset, id, label, run_id            -#}
WITH joined AS (
    SELECT
        CAST(l.{{ label | ident }} AS {{ types.float }}) AS y,
        CAST(p.prediction AS {{ types.float }}) AS yhat
    FROM {{ predictions | ident }} AS p
    JOIN {{ labels | ident }} AS l ON l.{{ id | ident }} = p.{{ id | ident }}
    WHERE p.model_id = {{ model_id | lit }} AND p.dataset = {{ dataset | lit }} AND l.dataset = {{ dataset | lit }}
),
moments AS (
    SELECT
        CAST(count(*) AS {{ types.float }}) AS n,
        avg(y) AS y_mean,
        avg(yhat - y) AS err_mean,
        avg(abs(yhat - y)) AS mae,
        avg((yhat - y) * (yhat - y)) AS mse
    FROM joined
),
spread AS (
    SELECT
        sum((j.y - m.y_mean) * (j.y - m.y_mean)) AS ss_tot,
        sum((j.y - j.yhat) * (j.y - j.yhat)) AS ss_res,
        sum((j.yhat - j.y - m.err_mean) * (j.yhat - j.y - m.err_mean)) AS ss_err
    FROM joined AS j CROSS JOIN moments AS m
),
metrics AS (
    SELECT 'rows' AS metric, n AS value FROM moments
    UNION ALL SELECT 'mae', mae FROM moments
    UNION ALL SELECT 'mse', mse FROM moments
    UNION ALL SELECT 'rmse', sqrt(mse) FROM moments
    UNION ALL SELECT 'r2', 1 - ss_res / NULLIF(ss_tot, 0) FROM spread
    UNION ALL SELECT 'explained_variance', 1 - ss_err / NULLIF(ss_tot, 0) FROM spread
)
SELECT {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset, metric, value
FROM metrics
