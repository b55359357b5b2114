{#- Every statistic preprocessing needs, computed on the training split only. The result is
    read back once and frozen into the feature SQL and the model directory, so holdout and
    scoring rows never influence their own imputation or scaling.

    Long format: (feature, stat, category, value). Every feature gets rows and nulls.
    Categorical columns get their vocabulary (stat 'count', one row per category) and mode
    (ties to the smallest value). Numeric columns get min, max, mode (ties to the smallest
    value), median (the mean of the two middle values, which are data values: no engine's
    interpolation formula involved) and the raw material of mean and std (center, half and
    the integer sums sum_y_k, sum_yy_k), which become mean and std in stats_from_rows.

    Determinism: a float sum depends on the order of its terms, which depends on threads and
    engine. So no float is summed here. Each value is mapped into [-1, 1] by the exact min and
    max (y = (x - center) / half, IEEE operations that every engine rounds alike), |y| and y*y
    are cut into {{ limbs }} whole numbers of {{ bits }} bits each (exact double operations),
    and those integers are summed: integer sums are exact in any order. The sums stay below
    2^53 for up to 2^31 rows, so they travel exactly in the DOUBLE `value` column.
    pipeline.features.stats_from_rows turns them into mean and std with exact rational
    arithmetic, rounded once; so the statistics are a function of the multiset of training
    values alone, the same on DuckDB at any thread count and on BigQuery.

    The SQL does not grow deeper with the number of features: columns become long rows
    (feature, value) through one flat array per row, and every statistic is one GROUP BY.

    context: relation (SQL of the cleaned rows), features, run_id                          -#}
{% set limbs = 4 %}
{% set bits = 21 %}
{% set unit = 2 ** bits %}
{% set numeric = features | selectattr('type', 'equalto', 'numeric') | map(attribute='column') | list %}
{% set categorical = features | rejectattr('type', 'equalto', 'numeric') | map(attribute='column') | list %}
{% set floor_int = adapter.dispatch('floor_int') %}
{% set null_text = 'CAST(NULL AS ' ~ types.string ~ ')' %}
WITH train AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset = 'train'
),
train_rows AS (
    SELECT count(*) AS n FROM train
),
{% if numeric %}
num AS (
    {{ adapter.dispatch('long_values')('train', numeric, types.float) | indent(4) }}
),
num_range AS (
    SELECT feature, count(value) AS n, min(value) AS lo, max(value) AS hi
    FROM num
    GROUP BY feature
),
{#- center and half-range from halves: no overflow even for -1e308 .. 1e308 #}
num_frame AS (
    SELECT feature, lo / 2 + hi / 2 AS center, hi / 2 - lo / 2 AS half
    FROM num_range
    WHERE n > 0
),
num_scaled AS (
    SELECT n.feature AS feature,
           CASE WHEN f.half = 0 THEN 0 ELSE (n.value - f.center) / f.half END AS y
    FROM num AS n
    JOIN num_frame AS f ON n.feature = f.feature
    WHERE n.value IS NOT NULL
),
{#- limb k of a number v in [0, 1]: floor(v * 2^(bits*k)) mod 2^bits, by exact steps #}
num_limbs_0 AS (
    SELECT feature,
           CASE WHEN y < 0 THEN -1 ELSE 1 END AS sgn,
           abs(y) * {{ unit }} AS v,
           (y * y) * {{ unit }} AS w
    FROM num_scaled
),
{% for k in range(1, limbs + 1) %}
num_limbs_{{ k }} AS (
    SELECT feature, sgn,
{% for j in range(1, k) %}
           a{{ j }}, b{{ j }},
{% endfor %}
           {{ floor_int('v') }} AS a{{ k }},
           {{ floor_int('w') }} AS b{{ k }},
           (v - floor(v)) * {{ unit }} AS v,
           (w - floor(w)) * {{ unit }} AS w
    FROM num_limbs_{{ k - 1 }}
),
{% endfor %}
num_sums AS (
    SELECT feature,
{% for k in range(1, limbs + 1) %}
           sum(sgn * a{{ k }}) AS sum_y_{{ k }},
           sum(b{{ k }}) AS sum_yy_{{ k }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_limbs_{{ limbs }}
    GROUP BY feature
),
num_mode AS (
    SELECT feature, value
    FROM (
        SELECT feature, value, ROW_NUMBER() OVER (PARTITION BY feature ORDER BY n DESC, value) AS r
        FROM (
            SELECT feature, value, count(*) AS n FROM num WHERE value IS NOT NULL GROUP BY feature, value
        ) AS counts
    ) AS m
    WHERE r = 1
),
num_middle AS (
    {{ adapter.dispatch('grouped_middle')('value', 'num', 'feature') | indent(4) }}
),
{% endif %}
{% if categorical %}
cat AS (
    {{ adapter.dispatch('long_values')('train', categorical, types.string) | indent(4) }}
),
cat_nulls AS (
    SELECT feature, count(*) - count(value) AS nulls FROM cat GROUP BY feature
),
cat_counts AS (
    SELECT feature, value AS category, count(*) AS n
    FROM cat
    WHERE value IS NOT NULL
    GROUP BY feature, value
),
{% endif %}
stats AS (
{% if numeric %}
    SELECT r.feature AS feature, 'rows' AS stat, {{ null_text }} AS category,
           CAST(t.n AS {{ types.float }}) AS value
    FROM num_range AS r CROSS JOIN train_rows AS t
    UNION ALL
    SELECT r.feature, 'nulls', NULL, CAST(t.n - r.n AS {{ types.float }})
    FROM num_range AS r CROSS JOIN train_rows AS t
    UNION ALL
    SELECT feature, 'min', NULL, lo FROM num_range
    UNION ALL
    SELECT feature, 'max', NULL, hi FROM num_range
    UNION ALL
    SELECT feature, 'center', NULL, center FROM num_frame
    UNION ALL
    SELECT feature, 'half', NULL, half FROM num_frame
{% for k in range(1, limbs + 1) %}
{% for s in ('y', 'yy') %}
    UNION ALL
    SELECT feature, 'sum_{{ s }}_{{ k }}', NULL, CAST(sum_{{ s }}_{{ k }} AS {{ types.float }}) FROM num_sums
{% endfor %}
{% endfor %}
    UNION ALL
    SELECT feature, 'mode', NULL, value FROM num_mode
    UNION ALL
    {#- halving is exact, so this is (lower + upper) / 2 rounded once, with no overflow #}
    SELECT feature, 'median', NULL, lower_mid / 2 + upper_mid / 2 FROM num_middle
{% endif %}
{% if numeric and categorical %}
    UNION ALL
{% endif %}
{% if categorical %}
    SELECT n.feature AS feature, 'rows' AS stat, {{ null_text }} AS category,
           CAST(t.n AS {{ types.float }}) AS value
    FROM cat_nulls AS n CROSS JOIN train_rows AS t
    UNION ALL
    SELECT feature, 'nulls', NULL, CAST(nulls AS {{ types.float }}) FROM cat_nulls
    UNION ALL
    SELECT feature, 'count', category, CAST(n AS {{ types.float }}) FROM cat_counts
    UNION ALL
    SELECT feature, 'mode', category, CAST(n AS {{ types.float }})
    FROM (
        SELECT feature, category, n,
               ROW_NUMBER() OVER (PARTITION BY feature ORDER BY n DESC, category) AS r
        FROM cat_counts
    ) AS m
    WHERE r = 1
{% endif %}
)
SELECT {{ run_id | lit }} AS run_id, feature, stat, category, value
FROM stats
