{#- Append one finished stage run. Values go through the `lit` escaping filter. -#}
INSERT INTO {{ table | ident }} (
    run_id, stage, started_at, ended_at, status, rows_in, rows_out, sql_hashes, model_id,
    config_hash, git_commit, error, checks, details
) VALUES (
    {{ row.run_id | lit }},
    {{ row.stage | lit }},
    CAST({{ row.started_at | lit }} AS {{ types.timestamp }}),
    CAST({{ row.ended_at | lit }} AS {{ types.timestamp }}),
    {{ row.status | lit }},
    {{ row.rows_in | lit }},
    {{ row.rows_out | lit }},
    {{ row.sql_hashes | lit }},
    {{ row.model_id | lit }},
    {{ row.config_hash | lit }},
    {{ row.git_commit | lit }},
    {{ row.error | lit }},
    {{ row.checks | lit }},
    {{ row.details | lit }}
)
