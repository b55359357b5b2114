{#- Points for a regressor's charts on one dataset, stored with the other curves:
    'actual_predicted' (x: actual, y: predicted, n: 1) for a sample of at most `points` rows,
    the same rows on every engine and run (ordered by an MD5 of the id, not by storage order);
    'residuals' (x: bin's lower edge, threshold: its upper edge, y and n: rows) a histogram of
    predicted - actual over every row in `bins` equal-width bins, the largest in the last bin.

    context: predictions, labels, model_id, dataset, id, label, run_id, points, bins      -#}
WITH
joined AS (
    SELECT
        CAST(p.{{ id | ident }} AS {{ types.string }}) AS k,
        CAST(l.{{ label | ident }} AS {{ types.float }}) AS y,
        CAST(p.prediction AS {{ types.float }}) AS yhat
    FROM {{ predictions | ident }} AS p
    JOIN {{ labels | ident }} AS l ON l.{{ id | ident }} = p.{{ id | ident }}
    WHERE p.model_id = {{ model_id | lit }}
      AND p.dataset = {{ dataset | lit }}
      AND l.dataset = {{ dataset | lit }}
),
sample AS (
    SELECT
        y, yhat,
        row_number() OVER (
            ORDER BY {{ adapter.dispatch('hash_fraction')('k', 'report-sample') }}, k
        ) AS r
    FROM joined
),
spread AS (
    SELECT min(yhat - y) AS lo, max(yhat - y) AS hi FROM joined
),
binned AS (
    SELECT
        CASE
            WHEN s.hi = s.lo THEN 0
            ELSE least(
                CAST(floor((j.yhat - j.y - s.lo) / (s.hi - s.lo) * {{ bins | int }}) AS {{ types.int }}),
                {{ bins | int }} - 1
            )
        END AS bin,
        s.lo, s.hi
    FROM joined AS j
    CROSS JOIN spread AS s
),
points AS (
    SELECT 'actual_predicted' AS curve, y AS x, yhat AS y,
           CAST(NULL AS {{ types.float }}) AS threshold, CAST(1 AS {{ types.int }}) AS n
    FROM sample
    WHERE r <= {{ points | int }}
    UNION ALL
    SELECT 'residuals',
           lo + bin * (hi - lo) / {{ bins | int }},
           CAST(count(*) AS {{ types.float }}),
           lo + (bin + 1) * (hi - lo) / {{ bins | int }},
           count(*)
    FROM binned
    GROUP BY bin, lo, hi
)
SELECT
    {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id, {{ dataset | lit }} AS dataset,
    curve, x, y, threshold, n
FROM points
