{#- A view over a raw table for `pipeline init`: the same columns, a row key when the table has
    no id column, and plain names for an id or label whose raw name is not one.

    The key is a hash of the row's values in a canonical text form (each value as
    `<length>:<text>`, NULL as `N`), plus the row's occurrence number among identical rows: the
    same rows get the same keys on every engine and every run, and adding rows never changes an
    existing row's key. Identical rows are numbered 1, 2, ...; editing a row changes its key.

    `row_hash` (named by `hash`) is the key without the occurrence number: identical rows share
    it, so a split by it keeps them on one side.

    context: view, table, columns (names, in order), key (the key column's name, or none),
             hash (the row hash column's name, with key), renames {raw name: plain name},
             hashed (the columns the hash reads: all but row numbers, which differ per copy)                                                 -#}
{% set string = types.string %}
{% set hashed = hashed if hashed is defined and hashed else columns %}
CREATE OR REPLACE VIEW {{ view | ident }} AS
SELECT
{% if key %}
    CONCAT(__row_hash, '-', CAST(ROW_NUMBER() OVER (PARTITION BY __row_hash) AS {{ string }})) AS {{ key | ident }},
    __row_hash AS {{ hash | ident }},
{% endif %}
{% for c in columns %}
    {{ c | column }} AS {{ (renames[c] if c in renames else c) | column }}{{ ',' if not loop.last }}
{% endfor %}
FROM (
    SELECT
        src.*{{ ',' if key }}
{% if key %}
        {#- CASE, not COALESCE(CONCAT(...)): DuckDB's CONCAT skips NULLs where BigQuery's returns NULL #}
        {% set canonical %}CONCAT({% for c in hashed %}{% set v = 'CAST(src.' ~ (c | column) ~ ' AS ' ~ string ~ ')' %}CASE WHEN {{ v }} IS NULL THEN 'N' ELSE CONCAT(CAST(LENGTH({{ v }}) AS {{ string }}), ':', {{ v }}) END, ';'{{ ', ' if not loop.last }}{% endfor %}){% endset %}
{% if dialect == 'bigquery' %}
        SUBSTR(TO_HEX(MD5({{ canonical }})), 1, 16) AS __row_hash
{% else %}
        SUBSTR(md5({{ canonical }}), 1, 16) AS __row_hash
{% endif %}
{% endif %}
    FROM {{ table | ident }} AS src
) AS keyed
