{#- The holdout rows permutation importance scores, cleaned by the model's own SQL: at most
    `max_rows` of them, those with the smallest hash of the id salted with `seed` (adding rows
    never moves an existing row out of a smaller sample; the same rows on every engine).
    Written once per evaluation, so the raw table is read once, not once per feature.

    context: relation (the model's clean.sql over the labelled table, with the label), id,
             seed, max_rows, holdout (the holdout dataset's name)                           -#}
SELECT *
FROM {{ relation }} AS c
WHERE dataset = {{ holdout | lit }}
ORDER BY {{ adapter.dispatch('hash_fraction')(id | ident, 'importance:' ~ seed ~ ':rows:') }}, {{ id | ident }}
LIMIT {{ max_rows | int }}
