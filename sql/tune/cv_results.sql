{#- One row per candidate of a [tune] search, for the model its best candidate became: its
    parameters (JSON text), the metric's mean and standard deviation over the folds (ddof 0,
    as scikit-learn's GridSearchCV reports them), its rank (1 is best; ties share the
    smaller rank) and the score of each fold (a JSON list, fold 0 first).

    context: run_id, model_id, metric, folds, rows (candidate, params, mean, std, rank,
             fold_scores) -#}
{% for r in rows %}
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    CAST({{ r.candidate | lit }} AS {{ types.int }}) AS candidate,
    {{ r.params | lit }} AS params,
    {{ metric | lit }} AS metric,
    CAST({{ r.mean | lit }} AS {{ types.float }}) AS mean,
    CAST({{ r.std | lit }} AS {{ types.float }}) AS std,
    CAST({{ r.rank | lit }} AS {{ types.int }}) AS rank,
    CAST({{ folds | lit }} AS {{ types.int }}) AS folds,
    {{ r.fold_scores | lit }} AS fold_scores
{{ 'UNION ALL' if not loop.last }}
{% endfor %}
