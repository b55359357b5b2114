{#- One model's rows of feature_importance, from the figures computed in Python (the metrics
    by the metric SQL, the mean and standard deviation over repeats by NumPy, as scikit-learn's
    permutation_importance takes them). Numbers travel as text cast to the float type, which
    every engine parses to the same double.

    context: run_id, model_id, rows [{kind, feature, metric, repeats, holdout_rows, baseline, mean,
             std}] (at least one)                                                           -#}
{% macro number(v) -%}
{% if v is none %}CAST(NULL AS {{ types.float }}){% else %}CAST({{ (v | string) | lit }} AS {{ types.float }}){% endif %}
{%- endmacro %}
{% macro whole(v) -%}
{% if v is none %}CAST(NULL AS {{ types.int }}){% else %}CAST({{ v | int }} AS {{ types.int }}){% endif %}
{%- endmacro %}
{% for r in rows %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    {{ run_id | lit }} AS run_id,
    {{ model_id | lit }} AS model_id,
    {{ r.kind | lit }} AS kind,
    {{ r.feature | lit }} AS feature,
    {{ r.metric | lit }} AS metric,
    {{ whole(r.repeats) }} AS repeats,
    {{ whole(r.holdout_rows) }} AS holdout_rows,
    {{ number(r.baseline) }} AS baseline,
    {{ number(r.mean) }} AS mean,
    {{ number(r.std) }} AS std
{% endfor %}
