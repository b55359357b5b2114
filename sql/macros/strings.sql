{#- Text cleaning: trimmed, and an empty string is a missing value. -#}
{% macro default__clean_text(expr) -%}
NULLIF(TRIM(CAST({{ expr }} AS {{ types.string }})), '')
{%- endmacro %}
