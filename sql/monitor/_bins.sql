{#- Partials of the drift templates (not dialect-specific: plain SQL both engines take).

    Numbers are written with an exponent (0.1e0): a double literal on both engines, parsed to
    the nearest double, where 0.1 would be a DECIMAL in DuckDB, converted by its own rounding.

    Per-feature literals (edges, shares, training means) never become a CASE over feature
    names on long rows: that grows with features x rows at run time and features x bins in
    the planner. Bins are cut in wide rows, one CASE per column; the constants are wide
    literal rows (`literal_columns`) made long in one go, joined by feature. -#}

{#- A float, or none: a double literal. -#}
{% macro num(x) -%}
{% if x is none %}CAST(NULL AS {{ types.float }}){% else %}{% set t = x | lit %}{{ t if 'e' in t else t ~ 'e0' }}{% endif %}
{%- endmacro %}

{#- The bin of column `expr` with ascending `edges` (floats): the number of edges below
    the value, so bin i holds edges[i-1] < x <= edges[i] (NumPy: searchsorted(edges, x,
    'left')); NULL for NULL. -#}
{% macro bin_case(expr, edges) -%}
CASE WHEN {{ expr }} IS NULL THEN NULL{% for e in edges %} WHEN {{ expr }} <= {{ num(e) }} THEN {{ loop.index0 }}{% endfor %} ELSE {{ edges | length }} END
{%- endmacro %}

{#- The literals of one wide row, a column per feature of `items`: f[key], or with `index`
    f[key][index] (NULL where f[key] is none or shorter). Named (`named`) in the first row of
    a UNION ALL, plain NULL after it; `long_values` over the rows gives (feature, value). -#}
{% macro literal_columns(items, key, index=none, named=false) -%}
{% for f in items %}
{% set v = f[key] %}
{% if index is not none %}{% set v = v[index] if v is not none and v | length > index else none %}{% endif %}
{% if named %}{{ num(v) }} AS {{ f.column | ident }}{% else %}{{ 'NULL' if v is none else num(v) }}{% endif %}{{ ', ' if not loop.last }}
{%- endfor %}
{%- endmacro %}

{#- One bin's term of the population stability index, (s - t) * ln(s / t), with the scored
    share s = count / n and the training share t, each at least `epsilon`: an empty bin would
    make the log infinite. -#}
{% macro psi_term(count, n, share, epsilon) -%}
(GREATEST(CAST({{ count }} AS {{ types.float }}) / {{ n }}, {{ num(epsilon) }}) - GREATEST({{ share }}, {{ num(epsilon) }}))
           * LN(GREATEST(CAST({{ count }} AS {{ types.float }}) / {{ n }}, {{ num(epsilon) }}) / GREATEST({{ share }}, {{ num(epsilon) }}))
{%- endmacro %}
