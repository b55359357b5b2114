{#- Training rows per bin of each numeric feature, with the frozen edges as literals: the same
    bin expression the drift query applies to scored rows, so training and scoring shares
    cannot be cut differently.

    context: relation (SQL of cleaned rows), features [{column, edges}] (non-empty)        -#}
{% import 'monitor/_bins.sql' as b %}
WITH train AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset = 'train'
),
num AS (
    {{ adapter.dispatch('long_values')('train', features | map(attribute='column') | list, types.float) | indent(4) }}
),
binned AS (
    SELECT feature, {{ b.bin_of('value', features) | indent(4) }} AS bin
    FROM num
    WHERE value IS NOT NULL
)
SELECT feature, bin, count(*) AS n
FROM binned
GROUP BY feature, bin
ORDER BY feature, bin
