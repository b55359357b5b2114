{#- Every promotion, oldest first: who moved which alias from which model to which. -#}
SELECT alias, previous_model_id AS from_model, model_id AS to_model, promoted_at, promoted_by,
    note, run_id
FROM {{ table | ident }}
{% if alias %}
WHERE alias = {{ alias | lit }}
{% endif %}
ORDER BY alias, promoted_at, run_id
