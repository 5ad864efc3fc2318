{#-
  The token price catalog: the model_prices seed plus rows imported from LiteLLM. Both keep their own
  validity; priced_requests picks, for each request, the row in force at event_time with the latest
  valid_from, and on a tie the seed (source_priority 0) wins over an import (1). So an import with
  --effective-from D overrides older seed rows from D on, and a seed row dated D or later overrides it.
  provider is tierwise's id (macros/provider.sql), as on stg_usage_events: the seed is already spelled so
  (a seed test checks), imports since the importer renames providers too, but rows imported earlier may
  still say together_ai or gemini.
-#}
{%- set price_columns = [
    'provider', 'model', 'valid_from', 'valid_to',
    'input_cost_per_token', 'cache_read_cost_per_token', 'cache_creation_cost_per_token',
    'output_cost_per_token', 'reasoning_cost_per_token',
    'batch_input_cost_per_token', 'batch_output_cost_per_token',
    'batch_cache_read_cost_per_token', 'batch_cache_creation_cost_per_token', 'cache_creation_1h_cost_per_token',
    'priority_input_cost_per_token', 'priority_output_cost_per_token', 'priority_cache_read_cost_per_token',
    'flex_input_cost_per_token', 'flex_output_cost_per_token', 'flex_cache_read_cost_per_token',
    'long_context_threshold_tokens', 'long_input_cost_per_token', 'long_output_cost_per_token',
    'long_cache_read_cost_per_token', 'long_cache_creation_cost_per_token',
] -%}
{%- set imported = source('raw', 'imported_prices') -%}
{%- set imported_exists = execute and adapter.get_relation(
        database=imported.database, schema=imported.schema, identifier=imported.identifier) is not none -%}

with seeded as (
    select
        {{ price_columns | join(',\n        ') }},
        'seed' as price_source,
        0 as source_priority
    from {{ ref('model_prices') }}
),

imported as (
{%- if imported_exists %}
    select
        {{ price_columns | join(',\n        ') }},
        'litellm_import' as price_source,
        1 as source_priority
    from {{ imported }}
{%- else %}
    -- No import yet: an empty set with the same columns.
    select * from seeded where false
{%- endif %}
),

catalog_rows as (
    select * from seeded
    union all
    select * from imported
)

select
    {{ tw_canonical_provider('c.provider') }} as provider,
    {%- for column in price_columns[1:] + ['price_source', 'source_priority'] %}
    c.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from catalog_rows as c
{{ tw_join_provider_aliases('c.provider') }}
