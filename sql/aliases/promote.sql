{#- Append one promotion. Values go through the `lit` escaping filter. -#}
INSERT INTO {{ table | ident }} (
    alias, model_id, previous_model_id, promoted_at, promoted_by, run_id, note
) VALUES (
    {{ row.alias | lit }},
    {{ row.model_id | lit }},
    {{ row.previous_model_id | lit }},
    CAST({{ row.promoted_at | lit }} AS {{ types.timestamp }}),
    {{ row.promoted_by | lit }},
    {{ row.run_id | lit }},
    {{ row.note | lit }}
)
