{#- Every statistic preprocessing needs, computed on the training split only. The result is
    read back once and frozen into the feature SQL and the model directory, so holdout and
    scoring rows never influence their own imputation or scaling.

    Long format: (feature, stat, category, value). Numeric columns get count, nulls, mean,
    std (population, as scikit-learn's StandardScaler), min, max, median and mode; categorical
    columns get their vocabulary (stat 'count', one row per category), nulls and mode. Ties for
    the mode go to the smallest value, so it is deterministic on every engine.

    context: relation (SQL of the cleaned rows), features                                 -#}
WITH train AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset = 'train'
),
{% for f in features %}
counts_{{ loop.index }} AS (
    SELECT
        CAST({{ f.column | ident }} AS {{ types.string }}) AS category,
        count(*) AS n
    FROM train
    WHERE {{ f.column | ident }} IS NOT NULL
    GROUP BY {{ f.column | ident }}
),
{% endfor %}
stats AS (
{% for f in features %}
{% set counts = 'counts_' ~ loop.index %}
{% if not loop.first %}
    UNION ALL
{% endif %}
    SELECT {{ f.column | lit }} AS feature, 'rows' AS stat, CAST(NULL AS {{ types.string }}) AS category,
           CAST(count(*) AS {{ types.float }}) AS value FROM train
    UNION ALL
    SELECT {{ f.column | lit }}, 'nulls', NULL,
           CAST(count(*) - count({{ f.column | ident }}) AS {{ types.float }}) FROM train
{% if f.type == 'numeric' %}
    UNION ALL
    SELECT {{ f.column | lit }}, 'mean', NULL, CAST(avg({{ f.column | ident }}) AS {{ types.float }}) FROM train
    UNION ALL
    SELECT {{ f.column | lit }}, 'std', NULL, CAST(stddev_pop({{ f.column | ident }}) AS {{ types.float }}) FROM train
    UNION ALL
    SELECT {{ f.column | lit }}, 'min', NULL, CAST(min({{ f.column | ident }}) AS {{ types.float }}) FROM train
    UNION ALL
    SELECT {{ f.column | lit }}, 'max', NULL, CAST(max({{ f.column | ident }}) AS {{ types.float }}) FROM train
    UNION ALL
    SELECT {{ f.column | lit }}, 'median', NULL,
           CAST({{ adapter.dispatch('median')(f.column, 'train') }} AS {{ types.float }})
    UNION ALL
    SELECT {{ f.column | lit }}, 'mode', NULL, CAST(category AS {{ types.float }})
    FROM (
        SELECT category, ROW_NUMBER() OVER (ORDER BY n DESC, CAST(category AS {{ types.float }})) AS r
        FROM {{ counts }}
    ) AS m WHERE r = 1
{% else %}
    UNION ALL
    SELECT {{ f.column | lit }}, 'count', category, CAST(n AS {{ types.float }}) FROM {{ counts }}
    UNION ALL
    SELECT {{ f.column | lit }}, 'mode', category, CAST(n AS {{ types.float }})
    FROM (
        SELECT category, n, ROW_NUMBER() OVER (ORDER BY n DESC, category) AS r FROM {{ counts }}
    ) AS m WHERE r = 1
{% endif %}
{% endfor %}
)
SELECT {{ run_id | lit }} AS run_id, feature, stat, category, value
FROM stats
