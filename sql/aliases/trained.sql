{#- Whether the ledger has a successful train stage that made this model. -#}
SELECT count(*) AS n
FROM {{ table | ident }}
WHERE stage = 'train' AND status = 'success' AND model_id = {{ model_id | lit }}
