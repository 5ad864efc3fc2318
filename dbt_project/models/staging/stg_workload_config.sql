{#- Per-workload facts of the config file; empty when the table was never written (defaults apply). -#}
{%- set src = source('raw', 'workload_config') -%}
{%- set exists = execute and adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) is not none -%}
{%- if exists %}
select workload, data_class, ops_fte, customization, latency_slo_ms, capability_class, candidate_models, exclude_models
from {{ src }}
{%- else %}
select
    cast(null as varchar) as workload,
    cast(null as varchar) as data_class,
    cast(null as decimal(9, 4)) as ops_fte,
    cast(null as boolean) as customization,
    cast(null as double) as latency_slo_ms,
    cast(null as varchar) as capability_class,
    cast(null as varchar[]) as candidate_models,
    cast(null as varchar[]) as exclude_models
where false
{%- endif %}
