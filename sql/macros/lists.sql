{#- A parenthesised list of escaped literals, for IN (...). -#}
{% macro default__in_list(values) -%}
({% for v in values %}{{ v | lit }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
