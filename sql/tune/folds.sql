{#- The rows cross-validation works on: the training split of the clean table (or the sample
    [train] sample_rows draws from it, the same rows train fits on), each with its fold,
    floor(h * folds), h the id's hash_fraction under the folds' own salt. A row's fold depends
    on its id alone: the same on every engine, and adding rows moves none. The holdout is not
    read. Preprocessing statistics of fold f are fitted on `cv_fold <> f` only.

    context: relation (the clean table), id, folds, salt, sample_rows (or none), sample_salt -#}
{% set hashed = adapter.dispatch('hash_fraction') %}
{% set floor_int = adapter.dispatch('floor_int') %}
SELECT c.*, {{ floor_int(hashed(id | ident, salt) ~ ' * ' ~ folds) }} AS cv_fold
FROM (
    SELECT * FROM {{ relation }} AS s
    WHERE dataset = 'train'
{% if sample_rows is not none %}
    ORDER BY {{ hashed(id | ident, sample_salt) }}, {{ id | ident }}
    LIMIT {{ sample_rows | int }}
{% endif %}
) AS c
