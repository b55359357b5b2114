{#- A deterministic number in [0, 1) from a key and a salt: the first 32 bits of an MD5.
    MD5 is the same on every engine, so a row lands in the same split on DuckDB and BigQuery,
    and adding rows never moves an existing row to the other side. -#}
{% macro default__hash_fraction(expr, salt) -%}
CAST(('0x' || substr(md5({{ salt | lit }} || CAST({{ expr }} AS {{ types.string }})), 1, 8)) AS BIGINT) / 4294967296.0
{%- endmacro %}

{% macro bigquery__hash_fraction(expr, salt) -%}
CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT({{ salt | lit }}, CAST({{ expr }} AS STRING)))), 1, 8)) AS INT64) / 4294967296.0
{%- endmacro %}
