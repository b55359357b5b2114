{#- Score rows inside the warehouse: the trained model compiled to SQL expressions
    (pipeline/model_sql.py) over its own frozen features, so no row leaves the warehouse.
    Each layer reads the one before it: tree walks, running sums in the order scikit-learn
    adds them, probabilities, then the label. A layer carries on (`keep`) only the columns
    later layers read.

    context: features (SQL of feature rows), id, layers [{keep, new: [(alias, expression)]}],
             prediction, score, prediction_type, run_id, model_id                          -#}
WITH
{% for layer in layers %}
{{ "" if loop.first else ", " }}layer_{{ loop.index0 }} AS (
    SELECT
{% for column in layer.keep %}
        {{ column | ident }} AS {{ column | ident }},
{% endfor %}
{% for alias, expr in layer.new %}
        {{ expr }} AS {{ alias | ident }},
{% endfor %}
        {{ id | ident }} AS {{ id | ident }},
        dataset AS dataset
    FROM {% if loop.first %}({{ features }}) AS f{% else %}layer_{{ loop.index0 - 1 }}{% endif %}

)
{% endfor %}
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    {{ id | ident }} AS {{ id | ident }},
    dataset AS dataset,
    CAST({{ prediction }} AS {{ prediction_type }}) AS prediction,
    CAST({{ score }} AS {{ types.float }}) AS score,
    'warehouse' AS scored_by
FROM layer_{{ layers | length - 1 }}
