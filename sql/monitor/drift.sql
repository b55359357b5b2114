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
    else ok; `unmeasured` when there is no value (no non-NULL rows, zero training std);
    `few_rows` for a PSI over fewer than `min_rows` non-NULL values, recorded but not judged
    (an undrifted sample's PSI is about (bins - 1) / n, plus what its empty bins add).

    Same bytes on any engine and thread count: counts are integers; the mean comes from
    integer sums (each value mapped into [-1, 1] by the dataset's exact min and max, cut into
    4 whole numbers of 21 bits, as fit_stats.sql does) combined in a fixed order; the PSI adds
    its bins' terms in bin order, never through a float SUM.

    The SQL grows linearly with the features and stays flat: bins are cut in wide rows (one
    CASE per column), and the per-feature literals are wide rows made long and joined.

    Fast on many rows: the numeric columns stay wide while rows are many (per-column
    aggregates of one GROUP BY dataset, and a second pass for the mean's limbs that joins
    each row to its dataset's one-row frame); only the per-dataset results, a few rows, are
    made long. Long rows (rows x features) and joins on the feature name cost several times
    the cleaning itself.

    context: relation (SQL of cleaned rows), datasets, run_id, model_id, epsilon,
             numeric [{column, edges|none, shares|none, mean, std, null_base}] (floats or
             none), categorical [{column, known, null_base}], max_bins,
             thresholds {metric: {warn, fail}} (floats or none), min_rows                      -#}
{% import 'monitor/_bins.sql' as b %}
{% set limbs = 4 %}
{% set bits = 21 %}
{% set unit = 2 ** bits %}
{% set in_list = adapter.dispatch('in_list') %}
{% set floor_int = adapter.dispatch('floor_int') %}
{% set long_values = adapter.dispatch('long_values') %}
{% set f64 = types.float %}
{% set zero = b.num(0.0) %}
{% set binned = numeric | selectattr('edges', 'ne', none) | list %}
{% set num_cols = numeric | map(attribute='column') | list %}
{% set cat_cols = categorical | map(attribute='column') | list %}
WITH scored AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset IN {{ in_list(datasets) }}
),
{#- every per-feature literal, one wide row per kind (the training shares: one per bin),
    made long in one go: (kind, bin, feature, value) #}
frozen_wide AS (
    SELECT 'null_base' AS kind, -1 AS bin, {{ b.literal_columns(numeric + categorical, 'null_base', named=true) }}
{% if numeric %}
    UNION ALL
    SELECT 'mean', -1, {{ b.literal_columns(numeric + categorical, 'mean') }}
    UNION ALL
    SELECT 'std', -1, {{ b.literal_columns(numeric + categorical, 'std') }}
{% endif %}
{% for i in range(max_bins) %}
    UNION ALL
    SELECT 'share', {{ i }}, {{ b.literal_columns(numeric + categorical, 'shares', i) }}
{% endfor %}
),
frozen AS (
    {{ long_values('frozen_wide', num_cols + cat_cols, f64, ['kind', 'bin']) | indent(4) }}
),
{% if numeric %}
{#- the numeric columns by position (wide column names of their own: n0, lo0, ...) #}
{% set cols = [] %}
{% macro cols_as(prefix, cols) %}{% for j, c, edges in cols %}{{ prefix }}{{ j }} AS {{ c }}{{ ', ' if not loop.last }}{% endfor %}{% endmacro %}
{% for f in numeric %}
{% set _ = cols.append((loop.index0, f.column | ident, f.edges)) %}
{% endfor %}
num_frozen AS (
    SELECT feature,
           max(CASE WHEN kind = 'null_base' THEN value END) AS null_base,
           max(CASE WHEN kind = 'mean' THEN value END) AS mean,
           max(CASE WHEN kind = 'std' THEN value END) AS std
    FROM frozen
    WHERE kind <> 'share'
    GROUP BY feature
),
{#- one pass over the wide rows: per dataset the counts, extremes and bin counts of every
    column (no long rows, no join: per-column aggregates of one GROUP BY) #}
num_wide AS (
    SELECT dataset,
{% for j, c, edges in cols %}
           count({{ c }}) AS n{{ j }}, min({{ c }}) AS lo{{ j }}, max({{ c }}) AS hi{{ j }},
{% if edges is not none %}
{% for i in range(edges | length + 1) %}
           count(CASE WHEN k{{ j }} = {{ i }} THEN 1 END) AS b{{ j }}_{{ i }},
{% endfor %}
{% endif %}
{% endfor %}
           count(*) AS row_count
    FROM (
        SELECT dataset,
{% for j, c, edges in cols %}
{% if edges is not none %}
               {{ b.bin_case(c, edges) }} AS k{{ j }},
{% endif %}
               {{ c }}{{ ',' if not loop.last }}
{% endfor %}
        FROM scored
    ) AS binned
    GROUP BY dataset
),
{#- center and half-range from halves: no overflow even for -1e308 .. 1e308 #}
num_frame AS (
    SELECT dataset,
{% for j, c, edges in cols %}
           lo{{ j }} / 2 + hi{{ j }} / 2 AS center{{ j }}, hi{{ j }} / 2 - lo{{ j }} / 2 AS half{{ j }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_wide
),
{#- the second pass: each non-NULL value mapped into [-1, 1] by its dataset's frame #}
num_limbs_0 AS (
    SELECT dataset,
{% for j, c, edges in cols %}
           CASE WHEN y{{ j }} < 0 THEN -1 ELSE 1 END AS g{{ j }},
           abs(y{{ j }}) * {{ unit }} AS v{{ j }}{{ ',' if not loop.last }}
{% endfor %}
    FROM (
        SELECT s.dataset AS dataset,
{% for j, c, edges in cols %}
               CASE WHEN s.{{ c }} IS NULL THEN NULL WHEN f.half{{ j }} = 0 THEN 0
                    ELSE (s.{{ c }} - f.center{{ j }}) / f.half{{ j }} END AS y{{ j }}{{ ',' if not loop.last }}
{% endfor %}
        FROM scored AS s
        JOIN num_frame AS f ON s.dataset = f.dataset
    ) AS scaled
),
{#- limb k of a number v in [0, 1]: floor(v * 2^(bits*k)) mod 2^bits, by exact steps #}
{% for k in range(1, limbs + 1) %}
num_limbs_{{ k }} AS (
    SELECT dataset,
{% for j, c, edges in cols %}
           g{{ j }},{% for l in range(1, k) %} a{{ j }}_{{ l }},{% endfor %}

           {{ floor_int('v' ~ j) }} AS a{{ j }}_{{ k }},
           (v{{ j }} - floor(v{{ j }})) * {{ unit }} AS v{{ j }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_limbs_{{ k - 1 }}
),
{% endfor %}
num_sums AS (
    SELECT dataset,
{% for j, c, edges in cols %}
{% set outer = loop %}
{% for k in range(1, limbs + 1) %}
           sum(g{{ j }} * a{{ j }}_{{ k }}) AS s{{ j }}_{{ k }}{{ ',' if not (loop.last and outer.last) }}
{% endfor %}
{% endfor %}
    FROM num_limbs_{{ limbs }}
    GROUP BY dataset
),
{#- per dataset, wide: each column's non-NULL count and mean, and (one row per bin) its bin
    counts; then made long #}
num_means_wide AS (
    SELECT c.dataset AS dataset, c.row_count AS row_count,
{% for j, c, edges in cols %}
           c.n{{ j }} AS n{{ j }},
           f.center{{ j }} + f.half{{ j }} * ((
{% for k in range(1, limbs + 1) %}
               {{ '+ ' if not loop.first }}CAST(s.s{{ j }}_{{ k }} AS {{ f64 }}) * {{ b.num(2.0 ** (-bits * k)) }}
{% endfor %}
           ) / NULLIF(c.n{{ j }}, 0)) AS mean{{ j }}{{ ',' if not loop.last }}
{% endfor %}
    FROM num_wide AS c
    LEFT JOIN num_frame AS f ON c.dataset = f.dataset
    LEFT JOIN num_sums AS s ON c.dataset = s.dataset
),
num_n AS (
    {{ long_values('(SELECT dataset, row_count, ' ~ cols_as('n', cols) ~ ' FROM num_means_wide)', num_cols, types.int, ['dataset', 'row_count']) | indent(4) }}
),
num_mean AS (
    {{ long_values('(SELECT dataset, ' ~ cols_as('mean', cols) ~ ' FROM num_means_wide)', num_cols, f64, ['dataset']) | indent(4) }}
),
num_stats AS (
    SELECT c.dataset AS dataset, c.feature AS feature, c.row_count AS row_count, c.value AS n,
           m.value AS mean
    FROM num_n AS c
    JOIN num_mean AS m ON c.dataset = m.dataset AND c.feature = m.feature
),
{% if binned %}
bin_counts_wide AS (
{% for i in range(max_bins) %}
    {{ 'UNION ALL' if not loop.first }}
    SELECT dataset, {{ i }} AS bin,{% for j, c, edges in cols %} {{ 'b%d_%d' % (j, i) if edges is not none and i <= edges | length else 'NULL' }} AS {{ c }}{{ ',' if not loop.last }}{% endfor %}

    FROM num_wide
{% endfor %}
),
bin_counts AS (
    {{ long_values('bin_counts_wide', num_cols, types.int, ['dataset', 'bin']) | indent(4) }}
),
train_shares AS (
    SELECT bin, feature, value AS share FROM frozen WHERE kind = 'share' AND value IS NOT NULL
),
psi_terms AS (
    SELECT d.dataset AS dataset, t.feature AS feature, t.bin AS bin,
           {{ b.psi_term('COALESCE(c.value, 0)', 'NULLIF(d.n, 0)', 't.share', epsilon) }} AS term
    FROM train_shares AS t
    JOIN num_stats AS d ON d.feature = t.feature
    LEFT JOIN bin_counts AS c ON c.dataset = d.dataset AND c.feature = t.feature AND c.bin = t.bin
),
{#- one term per bin, added in bin order (a float SUM would add them in any order) #}
num_psi AS (
    SELECT dataset, feature,
{% for i in range(max_bins) %}
           {{ '+ ' if not loop.first }}COALESCE(max(CASE WHEN bin = {{ i }} THEN term END), 0)
{% endfor %}
           AS psi
    FROM psi_terms
    GROUP BY dataset, feature
),
{% endif %}
num_drift AS (
    SELECT s.dataset AS dataset, s.feature AS feature, s.row_count AS row_count,
           'null_rate' AS metric, CAST(s.row_count - s.n AS {{ f64 }}) / s.row_count AS value,
           z.null_base AS baseline, s.n AS n
    FROM num_stats AS s
    JOIN num_frozen AS z ON z.feature = s.feature
    UNION ALL
    SELECT s.dataset, s.feature, s.row_count, 'mean_shift',
           (s.mean - z.mean) / NULLIF(z.std, 0), {{ zero }}, s.n
    FROM num_stats AS s
    JOIN num_frozen AS z ON z.feature = s.feature
{% if binned %}
    UNION ALL
    SELECT s.dataset, s.feature, s.row_count, 'psi',
           CASE WHEN s.n = 0 THEN NULL ELSE p.psi END, {{ zero }}, s.n
    FROM num_stats AS s
    JOIN num_psi AS p ON p.dataset = s.dataset AND p.feature = s.feature
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
    {{ long_values('scored', cat_cols, types.string, ['dataset']) | indent(4) }}
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
    SELECT c.dataset AS dataset, c.feature AS feature, c.row_count AS row_count,
           'null_rate' AS metric, CAST(c.row_count - c.n AS {{ f64 }}) / c.row_count AS value,
           z.value AS baseline, c.n AS n
    FROM cat_counts AS c
    JOIN frozen AS z ON z.feature = c.feature AND z.kind = 'null_base'
    UNION ALL
    SELECT dataset, feature, row_count, 'unseen_share',
           CAST(unseen AS {{ f64 }}) / NULLIF(n, 0), {{ zero }}, n
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
        WHEN metric = 'psi' AND n < {{ min_rows }} THEN 'few_rows'
        WHEN fail_threshold IS NOT NULL AND deviation > fail_threshold THEN 'fail'
        WHEN warn_threshold IS NOT NULL AND deviation > warn_threshold THEN 'warn'
        ELSE 'ok'
    END AS status
FROM judged
ORDER BY dataset, feature, metric
