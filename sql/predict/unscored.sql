{#- Incremental scoring: the rows to score, less those this model has already scored (same id,
    same dataset); the rows already in the predictions table stay as they are. -#}
SELECT f.*
FROM ({{ rows }}) AS f
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ predictions | ident }} AS p
    WHERE p.model_id = {{ model_id | lit }}
        AND p.dataset = f.dataset
        AND p.{{ id | ident }} = f.{{ id | ident }}
)
