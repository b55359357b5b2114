{#- The model a successful train stage of one run made (none when the run trained nothing). -#}
SELECT model_id
FROM {{ table | ident }}
WHERE stage = 'train' AND status = 'success' AND model_id IS NOT NULL
    AND run_id = {{ run_id | lit }}
ORDER BY ended_at DESC
LIMIT 1
