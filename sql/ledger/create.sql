{#- The run ledger: one row per stage run. Everything a stage writes carries its run_id. -#}
CREATE TABLE IF NOT EXISTS {{ table | ident }} (
    run_id {{ types.string }},
    stage {{ types.string }},
    started_at {{ types.timestamp }},
    ended_at {{ types.timestamp }},
    status {{ types.string }},
    rows_in {{ types.int }},
    rows_out {{ types.int }},
    sql_hashes {{ types.string }},
    model_id {{ types.string }},
    config_hash {{ types.string }},
    git_commit {{ types.string }},
    error {{ types.string }},
    checks {{ types.string }},
    details {{ types.string }}
);
{# ledgers written before a column existed gain it #}
ALTER TABLE {{ table | ident }} ADD COLUMN IF NOT EXISTS checks {{ types.string }};
ALTER TABLE {{ table | ident }} ADD COLUMN IF NOT EXISTS details {{ types.string }}
