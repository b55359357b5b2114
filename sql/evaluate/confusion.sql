{#- The confusion counts of a classifier on one dataset, for the report's confusion matrix:
    one row per (actual, predicted) pair that occurs, both as strings, compared as
    multiclass.sql compares them. Pairs that never occur are left out (the report shows 0).

    context: see _scored.sql (slices empty), plus run_id                                  -#}
WITH
{% include 'evaluate/_scored.sql' %},
pairs AS (
    SELECT
        CAST(y AS {{ types.string }}) AS actual,
        CAST(prediction AS {{ types.string }}) AS predicted
    FROM scored
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    actual, predicted, count(*) AS n
FROM pairs
GROUP BY actual, predicted
