{#- The quantile bin edges of each numeric feature over the training split, frozen with the
    model for drift (bins.json). Exact and deterministic on any engine and thread count: edge k
    of `bins` is the value at rank ceil(k * n / bins) of the feature's n non-null training
    values in ascending order (NumPy: quantile(x, k / bins, method='inverted_cdf')), a value of
    the data, so no interpolation formula and no approximate quantile is involved; ties in
    the order are equal values, so which tied row gets a rank changes nothing. ceil(k * n /
    bins) is exact in doubles: k * n is a whole number and the quotient, when not whole, is
    at least 1 / bins away from one. Repeated edges collapse, and an edge equal to the
    maximum is dropped (its bin above would be empty), so a feature may get fewer bins.

    context: relation (SQL of cleaned rows), columns (numeric feature columns), bins         -#}
WITH train AS (
    SELECT * FROM {{ relation }} AS c WHERE dataset = 'train'
),
num AS (
    {{ adapter.dispatch('long_values')('train', columns, types.float) | indent(4) }}
),
ranked AS (
    SELECT feature, value,
           ROW_NUMBER() OVER (PARTITION BY feature ORDER BY value) AS r,
           COUNT(*) OVER (PARTITION BY feature) AS n,
           MAX(value) OVER (PARTITION BY feature) AS hi
    FROM num
    WHERE value IS NOT NULL
)
SELECT DISTINCT feature, value AS edge
FROM ranked
WHERE value < hi
  AND r IN (
{% for k in range(1, bins) %}
      CAST(CEIL(CAST(n AS {{ types.float }}) * {{ k }} / {{ bins }}) AS {{ types.int }}){{ ',' if not loop.last }}
{% endfor %}
  )
ORDER BY feature, edge
