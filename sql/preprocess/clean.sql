{#- Cleaning: one typed row per raw row, from every source, tagged with its dataset.
    Labelled sources are split into train and holdout by a hash of the id, so the split is
    deterministic and a row never changes sides when others are added. Casts are strict on
    purpose: text in a numeric column is an error, not a silent NULL.

    context: sources  [{table, labelled, dataset}]  (dataset is used when not labelled)
             id, label, features (read from f.source, any name, if set), split {...}      -#}
{% for src in sources %}
{% if not loop.first %}
UNION ALL
{% endif %}
SELECT
    {{ id | ident }} AS {{ id | ident }},
{% if label is not none %}
    {{ (label | ident) if src.labelled else 'NULL' }} AS {{ label | ident }},
{% endif %}
{% for f in features %}
{% if f.type == 'numeric' %}
    CAST({{ (f.source or f.column) | column }} AS {{ types.float }}) AS {{ f.column | ident }},
{% else %}
    {{ adapter.dispatch('clean_text')((f.source or f.column) | column) }} AS {{ f.column | ident }},
{% endif %}
{% endfor %}
{% if src.labelled %}
    CASE
        {#- split.by: rows sharing its value (identical rows, one patient's) stay on one side #}
        WHEN {{ adapter.dispatch('hash_fraction')((split.by | column) if split.by else (id | ident), split.salt) }} < {{ split.holdout_fraction | lit }}
        THEN 'holdout' ELSE 'train'
    END AS dataset
{% else %}
    {{ src.dataset | lit }} AS dataset
{% endif %}
FROM {{ src.table | ident }}
{% endfor %}
