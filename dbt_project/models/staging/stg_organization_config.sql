{#- The organization facts of the config file; no row when the table was never written (defaults apply). -#}
{%- set src = source('raw', 'organization_config') -%}
{%- set exists = execute and adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) is not none -%}
{%- if exists %}
select domicile, eu_domiciled, monthly_active_users, config_file, loaded_at
from {{ src }}
{%- else %}
select
    cast(null as varchar) as domicile,
    cast(null as boolean) as eu_domiciled,
    cast(null as bigint) as monthly_active_users,
    cast(null as varchar) as config_file,
    cast(null as timestamp) as loaded_at
where false
{%- endif %}
