{#- Partials of the drift templates (not dialect-specific: plain SQL both engines take).

    Numbers arrive as their Python repr in a string and are CAST to a double: a string
    parses to the nearest double on both engines, where a decimal literal such as 0.1 would be
    a DECIMAL in DuckDB, converted to a double by its own rounding. -#}

{#- A number given as a string (repr of a double), or none: a double literal. -#}
{% macro num(x) -%}
{% if x is none %}CAST(NULL AS {{ types.float }}){% else %}CAST({{ x | lit }} AS {{ types.float }}){% endif %}
{%- endmacro %}

{#- The bin of `expr` (long rows with a `feature` column): the number of the feature's edges
    below it, so bin i holds edge[i-1] < x <= edge[i] (NumPy: searchsorted(edges, x, 'left')).
    NULL for a NULL value and for a feature with no bins. `features`: [{column, edges}]. -#}
{% macro bin_of(expr, features) -%}
CASE
    WHEN {{ expr }} IS NULL THEN NULL
{% for f in features %}
{% if f.edges %}
    WHEN feature = {{ f.column | lit }} THEN CASE
{% for e in f.edges %}
        WHEN {{ expr }} <= {{ num(e) }} THEN {{ loop.index0 }}
{% endfor %}
        ELSE {{ f.edges | length }}
    END
{% else %}
    WHEN feature = {{ f.column | lit }} THEN 0
{% endif %}
{% endfor %}
END
{%- endmacro %}

{#- One bin's term of the population stability index, (s - t) * ln(s / t), with the scored
    share s = count / n and the training share t, each at least `epsilon`: an empty bin would
    make the log infinite. -#}
{% macro psi_term(count, n, share, epsilon) -%}
(GREATEST(CAST({{ count }} AS {{ types.float }}) / {{ n }}, {{ num(epsilon) }}) - GREATEST({{ num(share) }}, {{ num(epsilon) }}))
            * LN(GREATEST(CAST({{ count }} AS {{ types.float }}) / {{ n }}, {{ num(epsilon) }}) / GREATEST({{ num(share) }}, {{ num(epsilon) }}))
{%- endmacro %}

{#- A literal per feature of long rows (a `feature` column): `key` of each of `items`. -#}
{% macro per_feature(items, key) -%}
{% if items %}CASE feature{% for f in items %} WHEN {{ f.column | lit }} THEN {{ num(f[key]) }}{% endfor %} END{% else %}{{ num(none) }}{% endif %}
{%- endmacro %}
