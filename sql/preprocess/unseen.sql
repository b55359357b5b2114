{#- Categorical values in scoring rows that the training split never had, per feature and
    dataset: they went to the unknown bucket, and this says how often and which.

    context: relation (SQL of cleaned rows), datasets, plans, run_id, model_id           -#}
{% set in_list = adapter.dispatch('in_list') %}
{% set categorical = plans | selectattr('type', 'equalto', 'categorical') | list %}
{% if categorical %}
{% for p in categorical %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    dataset,
    {{ p.column | lit }} AS feature,
    CAST({{ p.column | ident }} AS {{ types.string }}) AS category,
    count(*) AS row_count
FROM {{ relation }} AS c
WHERE dataset IN {{ in_list(datasets) }}
  AND {{ p.column | ident }} IS NOT NULL
{% if p.known %}
  AND {{ p.column | ident }} NOT IN {{ in_list(p.known) }}
{% endif %}
GROUP BY dataset, {{ p.column | ident }}
{% endfor %}
{% else %}
SELECT {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id,
       CAST(NULL AS {{ types.string }}) AS dataset, CAST(NULL AS {{ types.string }}) AS feature,
       CAST(NULL AS {{ types.string }}) AS category, 0 AS row_count
FROM (SELECT 1 AS one) AS nothing
WHERE FALSE
{% endif %}
