{#- Categorical values in scoring rows that the training split never had, per feature and
    dataset: they went to the unknown bucket, and this says how often and which.

    context: relation (SQL of cleaned rows), datasets, plans, run_id, model_id           -#}
{% set in_list = adapter.dispatch('in_list') %}
{% set categorical = plans | selectattr('type', 'equalto', 'categorical') | list %}
{% if categorical %}
{#- one long relation and one anti-join, not a query per feature: the SQL stays flat with
    hundreds of categorical features #}
{% set known = [] %}
{% for p in categorical %}
{% for value in p.known %}
{% set _ = known.append((p.column, value)) %}
{% endfor %}
{% endfor %}
WITH scored AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset IN {{ in_list(datasets) }}
),
long AS (
    {{ adapter.dispatch('long_values')('scored', categorical | map(attribute='column') | list, types.string, ['dataset']) | indent(4) }}
),
known AS (
    {{ adapter.dispatch('literal_pairs')(known) | indent(4) }}
)
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    l.dataset AS dataset,
    l.feature AS feature,
    l.value AS category,
    count(*) AS row_count
FROM long AS l
LEFT JOIN known AS k ON k.feature = l.feature AND k.category = l.value
WHERE l.value IS NOT NULL AND k.feature IS NULL
GROUP BY l.dataset, l.feature, l.value
{% else %}
SELECT {{ run_id | lit }} AS run_id, {{ model_id | lit }} AS model_id,
       CAST(NULL AS {{ types.string }}) AS dataset, CAST(NULL AS {{ types.string }}) AS feature,
       CAST(NULL AS {{ types.string }}) AS category, 0 AS row_count
FROM (SELECT 1 AS one) AS nothing
WHERE FALSE
{% endif %}
