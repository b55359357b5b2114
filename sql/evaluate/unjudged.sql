{#- How many of one model's predictions of one dataset have no row of that dataset in the clean
    table (labelled rows scored by `predict --incremental` after the last preprocess): evaluate
    cannot judge them until preprocess brings them in.

    context: predictions, labels (the clean table), model_id, dataset, id
    columns: n                                                                               -#}
SELECT count(*) AS n
FROM {{ predictions | ident }} AS p
WHERE p.model_id = {{ model_id | lit }}
  AND p.dataset = {{ dataset | lit }}
  AND NOT EXISTS (
    SELECT 1
    FROM {{ labels | ident }} AS l
    WHERE l.{{ id | ident }} = p.{{ id | ident }}
      AND l.dataset = {{ dataset | lit }}
  )
