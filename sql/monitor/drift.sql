{#- Drift of the rows being scored against the model's frozen training statistics, per
    dataset and feature, over the cleaned rows before imputation (the same rows, the same
    cleaning, that the model scores). Long rows (dataset, feature, metric, value):

      null_rate     share of NULL values (baseline: the training split's null rate)
      mean_shift    (mean - training mean) / training std; NULL when the training std is 0
      psi           population stability index over the frozen training quantile bins:
                    sum over bins of (s - t) * ln(s / t), s the scored share, t the training
                    share, each at least `epsilon` (an empty bin would make ln infinite)
      unseen_share  share of non-NULL categorical values the training split never had

    `status` compares |value - baseline| with the [monitor] thresholds: fail, else warn,
    else ok; `unmeasured` when there is no value (no non-NULL rows, zero training std).

    Same bytes on any engine and thread count: counts are integers; the mean comes from
    integer sums (each value mapped into [-1, 1] by the dataset's exact min and max, cut into
    {{ limbs }} whole numbers of {{ bits }} bits, as fit_stats.sql does) combined in a fixed
    order; the PSI adds its bins in a fixed order, written out per feature.

    context: relation (SQL of cleaned rows), datasets, run_id, model_id, epsilon (string),
             numeric [{column, edges|none, shares|none, mean, std, null_base}] (numbers as
             repr strings or none), categorical [{column, known, null_base}], max_bins,
             thresholds {metric: {warn, fail}} (repr strings or none)                      -#}
{% import 'monitor/_bins.sql' as b %}
{% set limbs = 4 %}
{% set bits = 21 %}
{% set unit = 2 ** bits %}
{% set in_list = adapter.dispatch('in_list') %}
{% set floor_int = adapter.dispatch('floor_int') %}
{% set f64 = types.float %}
{% set binned = numeric | selectattr('edges', 'ne', none) | list %}
WITH scored AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset IN {{ in_list(datasets) }}
),
{% if numeric %}
num AS (
    {{ adapter.dispatch('long_values')('scored', numeric | map(attribute='column') | list, f64, ['dataset']) | indent(4) }}
),
num_binned AS (
{% if binned %}
    SELECT dataset, feature, value, {{ b.bin_of('value', binned) | indent(4) }} AS bin
{% else %}
    SELECT dataset, feature, value, CAST(NULL AS {{ types.int }}) AS bin
{% endif %}
    FROM num
),
num_counts AS (
    SELECT dataset, feature, count(*) AS row_count, count(value) AS n,
           min(value) AS lo, max(value) AS hi{{ ',' if max_bins }}
{% for i in range(max_bins) %}
           sum(CASE WHEN bin = {{ i }} THEN 1 ELSE 0 END) AS c_{{ i }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_binned
    GROUP BY dataset, feature
),
{#- center and half-range from halves: no overflow even for -1e308 .. 1e308 #}
num_frame AS (
    SELECT dataset, feature, lo / 2 + hi / 2 AS center, hi / 2 - lo / 2 AS half
    FROM num_counts
    WHERE n > 0
),
num_limbs_0 AS (
    SELECT dataset, feature,
           CASE WHEN y < 0 THEN -1 ELSE 1 END AS sgn,
           abs(y) * {{ unit }} AS v
    FROM (
        SELECT n.dataset AS dataset, n.feature AS feature,
               CASE WHEN f.half = 0 THEN 0 ELSE (n.value - f.center) / f.half END AS y
        FROM num AS n
        JOIN num_frame AS f ON n.dataset = f.dataset AND n.feature = f.feature
        WHERE n.value IS NOT NULL
    ) AS scaled
),
{% for k in range(1, limbs + 1) %}
num_limbs_{{ k }} AS (
    SELECT dataset, feature, sgn,
{% for j in range(1, k) %}
           a{{ j }},
{% endfor %}
           {{ floor_int('v') }} AS a{{ k }},
           (v - floor(v)) * {{ unit }} AS v
    FROM num_limbs_{{ k - 1 }}
),
{% endfor %}
num_sums AS (
    SELECT dataset, feature,
{% for k in range(1, limbs + 1) %}
           sum(sgn * a{{ k }}) AS s{{ k }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_limbs_{{ limbs }}
    GROUP BY dataset, feature
),
num_stats AS (
    SELECT c.*,
           f.center + f.half * ((
{% for k in range(1, limbs + 1) %}
               {{ '+ ' if not loop.first }}CAST(s.s{{ k }} AS {{ f64 }}) * {{ b.num((2.0 ** (-bits * k)) | string) }}
{% endfor %}
           ) / NULLIF(c.n, 0)) AS mean
    FROM num_counts AS c
    LEFT JOIN num_frame AS f ON c.dataset = f.dataset AND c.feature = f.feature
    LEFT JOIN num_sums AS s ON c.dataset = s.dataset AND c.feature = s.feature
),
num_drift AS (
    SELECT dataset, feature, row_count, 'null_rate' AS metric,
           CAST(row_count - n AS {{ f64 }}) / row_count AS value,
           {{ b.per_feature(numeric, 'null_base') }} AS baseline
    FROM num_stats
    UNION ALL
    SELECT dataset, feature, row_count, 'mean_shift',
           (mean - {{ b.per_feature(numeric, 'mean') }}) / NULLIF({{ b.per_feature(numeric, 'std') }}, 0),
           {{ b.num('0.0') }}
    FROM num_stats
{% if binned %}
    UNION ALL
    SELECT dataset, feature, row_count, 'psi',
           CASE WHEN n = 0 THEN NULL ELSE CASE feature
{% for f in binned %}
               WHEN {{ f.column | lit }} THEN
{% for share in f.shares %}
            {{ '+ ' if not loop.first }}{{ b.psi_term('c_' ~ loop.index0, 'NULLIF(n, 0)', share, epsilon) }}
{% endfor %}
{% endfor %}
           END END,
           {{ b.num('0.0') }}
    FROM num_stats
    WHERE feature IN {{ in_list(binned | map(attribute='column') | list) }}
{% endif %}
),
{% endif %}
{% if categorical %}
{% set known = [] %}
{% for p in categorical %}
{% for value in p.known %}
{% set _ = known.append((p.column, value)) %}
{% endfor %}
{% endfor %}
cat AS (
    {{ adapter.dispatch('long_values')('scored', categorical | map(attribute='column') | list, types.string, ['dataset']) | indent(4) }}
),
known AS (
    {{ adapter.dispatch('literal_pairs')(known) | indent(4) }}
),
cat_counts AS (
    SELECT l.dataset AS dataset, l.feature AS feature, count(*) AS row_count,
           count(l.value) AS n,
           sum(CASE WHEN l.value IS NOT NULL AND k.feature IS NULL THEN 1 ELSE 0 END) AS unseen
    FROM cat AS l
    LEFT JOIN known AS k ON k.feature = l.feature AND k.category = l.value
    GROUP BY l.dataset, l.feature
),
cat_drift AS (
    SELECT dataset, feature, row_count, 'null_rate' AS metric,
           CAST(row_count - n AS {{ f64 }}) / row_count AS value,
           {{ b.per_feature(categorical, 'null_base') }} AS baseline
    FROM cat_counts
    UNION ALL
    SELECT dataset, feature, row_count, 'unseen_share',
           CAST(unseen AS {{ f64 }}) / NULLIF(n, 0), {{ b.num('0.0') }}
    FROM cat_counts
),
{% endif %}
measured AS (
{% if numeric %}
    SELECT * FROM num_drift
{% endif %}
{% if numeric and categorical %}
    UNION ALL
{% endif %}
{% if categorical %}
    SELECT * FROM cat_drift
{% endif %}
),
judged AS (
    SELECT m.*, abs(value - baseline) AS deviation,
           CASE metric{% for metric, t in thresholds.items() %} WHEN {{ metric | lit }} THEN {{ b.num(t.warn) }}{% endfor %} END AS warn_threshold,
           CASE metric{% for metric, t in thresholds.items() %} WHEN {{ metric | lit }} THEN {{ b.num(t.fail) }}{% endfor %} END AS fail_threshold
    FROM measured AS m
)
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    dataset,
    feature,
    metric,
    value,
    baseline,
    row_count,
    warn_threshold,
    fail_threshold,
    CASE
        WHEN value IS NULL THEN 'unmeasured'
        WHEN fail_threshold IS NOT NULL AND deviation > fail_threshold THEN 'fail'
        WHEN warn_threshold IS NOT NULL AND deviation > warn_threshold THEN 'warn'
        ELSE 'ok'
    END AS status
FROM judged
ORDER BY dataset, feature, metric
