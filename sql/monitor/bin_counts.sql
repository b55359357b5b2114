{#- Training rows per bin of each numeric feature, with the frozen edges as literals: the same
    bin expression the drift query applies to scored rows, so training and scoring shares
    cannot be cut differently.

    context: relation (SQL of cleaned rows), features [{column, edges}] (non-empty)        -#}
{% import 'monitor/_bins.sql' as b %}
WITH binned AS (
    SELECT
{% for f in features %}
        {{ b.bin_case(f.column | ident, f.edges) }} AS {{ f.column | ident }}{{ ',' if not loop.last }}
{% endfor %}
    FROM {{ relation }} AS c
    WHERE dataset = 'train'
),
long AS (
    {{ adapter.dispatch('long_values')('binned', features | map(attribute='column') | list, types.int) | indent(4) }}
)
SELECT feature, value AS bin, count(*) AS n
FROM long
WHERE value IS NOT NULL
GROUP BY feature, value
ORDER BY feature, bin
