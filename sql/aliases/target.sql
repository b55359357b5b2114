{#- The model id an alias points at now (no row: the alias was never promoted). -#}
{% include "aliases/_target.sql" %}
