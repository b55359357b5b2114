{#- The rows every metric template starts from: one model's predictions of one dataset joined
    to their labels, repeated once per segment: ('all', 'all') for every row, then
    (slice column, its value) for each configured slice column of the raw labelled table.

    context: predictions, labels (the clean table), raw (the raw labelled table), slices,
             model_id, dataset, id, label
    columns: slice, segment, y (label), prediction, s (score)                              -#}
base AS (
    SELECT
        l.{{ label | ident }} AS y,
        p.prediction,
        p.score AS s{{ ',' if slices }}
{% for c in slices %}
        CAST(r.{{ c | column }} AS {{ types.string }}) AS {{ ('slice_' ~ loop.index) | ident }}{{ ',' if not loop.last }}
{% endfor %}
    FROM {{ predictions | ident }} AS p
    JOIN {{ labels | ident }} AS l ON l.{{ id | ident }} = p.{{ id | ident }}
{% if slices %}
    JOIN {{ raw | ident }} AS r ON r.{{ id | ident }} = p.{{ id | ident }}
{% endif %}
    WHERE p.model_id = {{ model_id | lit }}
      AND p.dataset = {{ dataset | lit }}
      AND l.dataset = {{ dataset | lit }}
),
scored AS (
    SELECT 'all' AS slice, 'all' AS segment, y, prediction, s FROM base
{% for c in slices %}
    UNION ALL
    SELECT {{ c | lit }}, COALESCE({{ ('slice_' ~ loop.index) | ident }}, 'NULL'), y, prediction, s FROM base
{% endfor %}
)
