{#- One row per id and dataset: the predictions of one model, looked up when the view is read,
    so a promotion takes effect without scoring again. The model is a fixed id, the newest
    promotion of an alias, or (latest) the model of the newest successful predict stage. -#}
CREATE OR REPLACE VIEW {{ view | ident }} AS
SELECT p.*
FROM {{ predictions | ident }} AS p
WHERE p.model_id = (
{% if model_id %}
    SELECT {{ model_id | lit }}
{% elif alias %}
{% include "aliases/_target.sql" %}
{% else %}
    SELECT r.model_id
    FROM {{ ledger | ident }} AS r
    WHERE r.stage = 'predict' AND r.status = 'success' AND r.model_id IS NOT NULL
    ORDER BY r.ended_at DESC
    LIMIT 1
{% endif %}
)
