{#- The model id an alias points at now: its newest promotion (run ids sort by time and break
    a tie within one timestamp). -#}
SELECT a.model_id
FROM {{ aliases | ident }} AS a
WHERE a.alias = {{ alias | lit }}
ORDER BY a.promoted_at DESC, a.run_id DESC
LIMIT 1
