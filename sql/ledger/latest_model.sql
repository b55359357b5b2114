{#- The model of the newest successful train stage. -#}
SELECT model_id
FROM {{ table | ident }}
WHERE stage = 'train' AND status = 'success' AND model_id IS NOT NULL
ORDER BY ended_at DESC
LIMIT 1
