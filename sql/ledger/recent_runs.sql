{#- The newest runs: one row per run with its stages, outcome and model. -#}
SELECT
    run_id,
    min(started_at) AS started_at,
    string_agg(stage, ' ' ORDER BY started_at) AS stages,
    CASE
        WHEN sum(CASE WHEN status = 'interrupted' THEN 1 ELSE 0 END) > 0 THEN 'interrupted'
        WHEN sum(CASE WHEN status = 'success' THEN 0 ELSE 1 END) = 0 THEN 'success'
        ELSE 'failed'
    END AS status,
    max(model_id) AS model_id
FROM {{ table | ident }}
GROUP BY run_id
ORDER BY started_at DESC
LIMIT {{ limit | int }}
