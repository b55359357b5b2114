{#- Models by their newest successful evaluation, newest first. -#}
SELECT model_id, max(ended_at) AS evaluated_at
FROM {{ table | ident }}
WHERE stage = 'evaluate' AND status = 'success' AND model_id IS NOT NULL
GROUP BY model_id
ORDER BY evaluated_at DESC
LIMIT {{ limit | int }}
