{#- One scoring run's drift rows, as drift.sql measured them before the run wrote anything:
    written from those figures rather than by running drift.sql again, so the scored rows are
    read once. Numbers travel as text cast to the float type, which every engine parses to the
    same double.

    context: rows [{run_id, model_id, dataset, feature, metric, value, baseline, row_count,
             warn_threshold, fail_threshold, status}] (at least one)                        -#}
{% macro number(v) -%}
{% if v is none %}CAST(NULL AS {{ types.float }}){% else %}CAST({{ (v | string) | lit }} AS {{ types.float }}){% endif %}
{%- endmacro %}
{% for r in rows %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    {{ r.run_id | lit }} AS run_id,
    {{ r.model_id | lit }} AS model_id,
    {{ r.dataset | lit }} AS dataset,
    {{ r.feature | lit }} AS feature,
    {{ r.metric | lit }} AS metric,
    {{ number(r.value) }} AS value,
    {{ number(r.baseline) }} AS baseline,
    CAST({{ r.row_count | int }} AS {{ types.int }}) AS row_count,
    {{ number(r.warn_threshold) }} AS warn_threshold,
    {{ number(r.fail_threshold) }} AS fail_threshold,
    {{ r.status | lit }} AS status
{% endfor %}
