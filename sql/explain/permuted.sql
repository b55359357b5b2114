{#- The sampled holdout rows (sample.sql) with one raw feature shuffled: `repeats` copies of
    the rows, each with the feature's values in another deterministic order, or the rows as
    they are when `feature` is none.

    Repeat r pairs the k-th row in id order with the k-th row in the order of a hash of the id
    salted with (seed, r, feature), and gives the first the second's value of the feature: a
    permutation of the column, the same on every engine (`hash_fraction` is MD5), a different
    one per repeat and per feature. Every other column stays with its row, so a categorical's
    one-hot columns and a missing indicator, made afterwards by features.sql, move together.

    The repeat travels in `dataset` ('0', '1', ...; 'baseline' unshuffled): features.sql passes
    that column through, so the model's own feature SQL runs over these rows unchanged.

    context: sample (the table of sampled rows), id, label, columns (the cleaned feature
             columns), feature (one of them, or none), repeats, seed                        -#}
{% set hash = adapter.dispatch('hash_fraction') %}
{% if feature is none %}
SELECT
    {{ id | ident }}, {{ label | ident }},
{% for c in columns %}
    {{ c | ident }},
{% endfor %}
    'baseline' AS dataset
FROM {{ sample | ident }}
{% else %}
WITH
by_id AS (
    SELECT *, ROW_NUMBER() OVER (ORDER BY {{ id | ident }}) AS k
    FROM {{ sample | ident }}
){% for r in range(repeats) %},
{{ ('shuffled_' ~ r) | ident }} AS (
    SELECT
        {{ feature | ident }} AS v,
        ROW_NUMBER() OVER (
            ORDER BY {{ hash(id | ident, 'importance:' ~ seed ~ ':' ~ r ~ ':' ~ feature ~ ':') }}, {{ id | ident }}
        ) AS k
    FROM {{ sample | ident }}
){% endfor %}

{% for r in range(repeats) %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    b.{{ id | ident }}, b.{{ label | ident }},
{% for c in columns %}
    {{ ('s.v' if c == feature else 'b.' ~ (c | ident)) }} AS {{ c | ident }},
{% endfor %}
    {{ (r | string) | lit }} AS dataset
FROM by_id AS b
JOIN {{ ('shuffled_' ~ r) | ident }} AS s ON s.k = b.k
{% endfor %}
{% endif %}
