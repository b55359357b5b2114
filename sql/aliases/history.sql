{#- Every promotion, oldest first: who moved which alias from which model to which. With no
    table (nothing promoted yet), the same columns and no rows. -#}
SELECT alias, previous_model_id AS from_model, model_id AS to_model, promoted_at, promoted_by,
    note, run_id
{% if table %}
FROM {{ table | ident }}
{% if alias %}
WHERE alias = {{ alias | lit }}
{% endif %}
{% else %}
FROM (
    SELECT CAST(NULL AS {{ types.string }}) AS alias, CAST(NULL AS {{ types.string }}) AS model_id,
        CAST(NULL AS {{ types.string }}) AS previous_model_id,
        CAST(NULL AS {{ types.timestamp }}) AS promoted_at,
        CAST(NULL AS {{ types.string }}) AS promoted_by, CAST(NULL AS {{ types.string }}) AS run_id,
        CAST(NULL AS {{ types.string }}) AS note
) AS promotions
WHERE FALSE
{% endif %}
ORDER BY alias, promoted_at, run_id
