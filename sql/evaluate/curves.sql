{#- Curves of a binary classifier's scores on one dataset, as points, for charts and queries:
    'roc' (x: false positive rate, y: true positive rate), 'pr' (x: recall, y: precision), one
    point per distinct score from the highest down, as scikit-learn's roc_curve and
    precision_recall_curve give them (ROC starts at (0, 0)); and 'calibration' (x: mean score,
    y: fraction positive, n: rows) in `bins` equal-width bins of the score (a score on an edge in the lower bin, as
    scikit-learn's calibration_curve), empty bins left out.

    context: see _scored.sql (slices empty), plus positive, bins, run_id                  -#}
WITH
{% include 'evaluate/_scored.sql' %},
labelled AS (
    SELECT s, CASE WHEN y = {{ positive | lit }} THEN 1 ELSE 0 END AS y FROM scored
),
by_score AS (
    SELECT s, CAST(sum(y) AS {{ types.float }}) AS pos, CAST(sum(1 - y) AS {{ types.float }}) AS neg
    FROM labelled
    GROUP BY s
),
cumulative AS (
    SELECT
        s,
        sum(pos) OVER (ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS tp,
        sum(neg) OVER (ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS fp,
        sum(pos) OVER () AS p_total,
        sum(neg) OVER () AS n_total
    FROM by_score
),
bins AS (
    SELECT
        {# the bin scikit-learn's calibration_curve puts s in: the number of interior edges
           below it, so a score on an edge falls in the lower bin #}
        CASE
            WHEN s <= 0 THEN 0
            WHEN s >= 1 THEN {{ bins | int }} - 1
            ELSE CAST(ceil(s * {{ bins | int }}) AS {{ types.int }}) - 1
        END AS bin,
        s, y
    FROM labelled
),
points AS (
    SELECT 'roc' AS curve, 0.0 AS x, 0.0 AS y, CAST(NULL AS {{ types.float }}) AS threshold,
           CAST(NULL AS {{ types.int }}) AS n
    UNION ALL
    SELECT 'roc', fp / NULLIF(n_total, 0), tp / NULLIF(p_total, 0), s, NULL FROM cumulative
    UNION ALL
    SELECT 'pr', tp / NULLIF(p_total, 0), tp / (tp + fp), s, NULL FROM cumulative
    UNION ALL
    SELECT 'calibration', avg(s), avg(CAST(y AS {{ types.float }})), CAST(bin AS {{ types.float }}), count(*)
    FROM bins
    GROUP BY bin
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    curve, x, y, threshold, n
FROM points
