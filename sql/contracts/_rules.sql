{#- The predicate that is true for a row breaking a row-level contract rule. -#}
{% set as_float = adapter.dispatch('try_cast_float') %}
{% set not_finite = adapter.dispatch('is_not_finite') %}
{% set in_list = adapter.dispatch('in_list') %}
{% macro broken(rule) -%}
{% set c = rule.column | column %}
{% if rule.kind == 'not_null' %}{{ c }} IS NULL
{% elif rule.kind == 'accepted' and rule['values'] and rule['values'][0] is number %}{{ c }} IS NOT NULL AND {{ as_float(c) }} NOT IN {{ in_list(rule['values'] | map('float') | list) }}
{% elif rule.kind == 'accepted' %}{{ c }} IS NOT NULL AND CAST({{ c }} AS {{ types.string }}) NOT IN {{ in_list(rule['values'] | map('string') | list) }}
{% elif rule.kind == 'min' %}{{ as_float(c) }} < {{ rule.limit | float | lit }}
{% elif rule.kind == 'max' %}{{ as_float(c) }} > {{ rule.limit | float | lit }}
{% elif rule.kind == 'numeric' %}{{ c }} IS NOT NULL AND {{ as_float(c) }} IS NULL
{% elif rule.kind == 'finite' %}{{ not_finite(as_float(c)) }}
{% elif rule.kind == 'whole' %}{{ as_float(c) }} <> floor({{ as_float(c) }})
{% endif %}
{%- endmacro %}
