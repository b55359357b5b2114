{#- Model aliases: one row per promotion, never updated; an alias points at its newest row. -#}
CREATE TABLE IF NOT EXISTS {{ table | ident }} (
    alias {{ types.string }},
    model_id {{ types.string }},
    previous_model_id {{ types.string }},
    promoted_at {{ types.timestamp }},
    promoted_by {{ types.string }},
    run_id {{ types.string }},
    note {{ types.string }}
)
