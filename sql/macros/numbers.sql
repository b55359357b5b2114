{#- A value as a float, or NULL when it is not a number (text in a numeric column). -#}
{% macro default__try_cast_float(expr) -%}
TRY_CAST({{ expr }} AS {{ types.float }})
{%- endmacro %}

{% macro bigquery__try_cast_float(expr) -%}
SAFE_CAST({{ expr }} AS FLOAT64)
{%- endmacro %}

{#- True for NaN and infinities (NULL stays NULL). -#}
{% macro default__is_not_finite(expr) -%}
(isnan({{ expr }}) OR isinf({{ expr }}))
{%- endmacro %}

{% macro bigquery__is_not_finite(expr) -%}
(IS_NAN({{ expr }}) OR IS_INF({{ expr }}))
{%- endmacro %}
