{#- Titanic-like raw rows of any number, made in the warehouse, the same for the same seed on
    every engine (each draw is hash_fraction of the row number and the seed, an MD5). Survival
    depends on sex, class and age as in the real data, so a model has something to learn; the
    real data's quirks are kept: missing Age (about 20%), Embarked and Cabin.

    context: rows, first_id, seed, labelled (include Survived)                             -#}
{% set u = adapter.dispatch('hash_fraction') %}
{% set draws = ['class', 'sex', 'a1', 'a2', 'a3', 'a4', 'age_missing', 'sibsp', 'parch',
                'f1', 'f2', 'embarked', 'cabin', 'ticket', 'survived'] %}
WITH n AS (
    {{ adapter.dispatch('row_numbers')(rows) }}
),
draws AS (
    SELECT
        i + {{ first_id | int }} AS id,
{% for d in draws %}
        {{ u('i', seed ~ ':' ~ d) }} AS u_{{ d }}{{ ',' if not loop.last }}
{% endfor %}
    FROM n
),
people AS (
    SELECT
        *,
        CASE WHEN u_class < 0.24 THEN 1 WHEN u_class < 0.45 THEN 2 ELSE 3 END AS pclass,
        CASE WHEN u_sex < 0.35 THEN 'female' ELSE 'male' END AS sex,
        {# Irwin-Hall: four uniforms summed are close to normal, sd 1 after scaling #}
        round(29.7 + 14.5 * 1.7320508 * (u_a1 + u_a2 + u_a3 + u_a4 - 2.0), 1) AS age_draw,
        exp(0.6 * 1.7320508 * (u_f1 + u_f2 - 1.0)) AS fare_noise
    FROM draws
)
SELECT
    id AS {{ 'PassengerId' | ident }},
{% if labelled %}
    CASE
        WHEN u_survived < 1.0 / (1.0 + exp(-(
            1.8 * (CASE WHEN sex = 'female' THEN 1 ELSE 0 END)
            - 0.9 * (pclass - 2)
            - 0.02 * (CASE WHEN age_draw < 0.42 THEN 0.42 ELSE age_draw END - 30)
            - 0.5)))
        THEN 1 ELSE 0
    END AS {{ 'Survived' | ident }},
{% endif %}
    pclass AS {{ 'Pclass' | ident }},
    CONCAT('Passenger, Mr. Number ', CAST(id AS {{ types.string }})) AS {{ 'Name' | ident }},
    sex AS {{ 'Sex' | ident }},
    CASE
        WHEN u_age_missing < 0.2 THEN NULL
        WHEN age_draw < 0.42 THEN 0.42
        ELSE age_draw
    END AS {{ 'Age' | ident }},
    CASE WHEN u_sibsp < 0.68 THEN 0 WHEN u_sibsp < 0.91 THEN 1 WHEN u_sibsp < 0.96 THEN 2
         ELSE 3 + CAST(floor((u_sibsp - 0.96) * 125) AS {{ types.int }}) END AS {{ 'SibSp' | ident }},
    CASE WHEN u_parch < 0.76 THEN 0 WHEN u_parch < 0.89 THEN 1 WHEN u_parch < 0.98 THEN 2
         ELSE 3 + CAST(floor((u_parch - 0.98) * 150) AS {{ types.int }}) END AS {{ 'Parch' | ident }},
    CONCAT('T', CAST(CAST(floor(u_ticket * 99999) AS {{ types.int }}) AS {{ types.string }})) AS {{ 'Ticket' | ident }},
    round(CASE pclass WHEN 1 THEN 84.0 WHEN 2 THEN 20.7 ELSE 13.7 END * fare_noise, 4) AS {{ 'Fare' | ident }},
    CASE WHEN u_cabin < 0.77 THEN NULL
         ELSE CONCAT('C', CAST(CAST(floor(u_cabin * 1000) AS {{ types.int }}) AS {{ types.string }})) END AS {{ 'Cabin' | ident }},
    CASE WHEN u_embarked < 0.002 THEN NULL WHEN u_embarked < 0.726 THEN 'S'
         WHEN u_embarked < 0.914 THEN 'C' ELSE 'Q' END AS {{ 'Embarked' | ident }}
FROM people
