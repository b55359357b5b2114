{#- The drift rows of a model's latest scoring run (run ids sort by time), for the report.

    context: table (the drift table), model_id                                              -#}
SELECT dataset, feature, metric, value, baseline, row_count, warn_threshold, fail_threshold,
       status, run_id
FROM {{ table | ident }}
WHERE model_id = {{ model_id | lit }}
  AND run_id = (SELECT max(run_id) FROM {{ table | ident }} WHERE model_id = {{ model_id | lit }})
ORDER BY dataset, feature, metric
