{{ config(
    unique_key='event_date',
    pre_hook="{{ tw_replace_window('event_date') }}",
) }}

-- One row per request, priced with the price row in force at its event_time (docs/costs.md).

with events as (
    select * from {{ ref('stg_usage_events') }}
    where {{ tw_in_window('event_date') }}
),

prices as (
    select * from {{ ref('stg_model_prices') }}
),

-- Self-hosted requests are paid for by GPU hours, not tokens: they never look up a token price.
price_in_force as (
    select
        ev.event_id,
        pr.valid_from,
        pr.price_source,
        pr.input_cost_per_token,
        pr.cache_read_cost_per_token,
        pr.cache_creation_cost_per_token,
        pr.output_cost_per_token,
        pr.reasoning_cost_per_token,
        pr.batch_input_cost_per_token,
        pr.batch_output_cost_per_token,
        pr.batch_cache_read_cost_per_token,
        pr.batch_cache_creation_cost_per_token,
        pr.cache_creation_1h_cost_per_token,
        pr.priority_input_cost_per_token,
        pr.priority_output_cost_per_token,
        pr.priority_cache_read_cost_per_token,
        pr.flex_input_cost_per_token,
        pr.flex_output_cost_per_token,
        pr.flex_cache_read_cost_per_token,
        pr.long_context_threshold_tokens,
        pr.long_input_cost_per_token,
        pr.long_output_cost_per_token,
        pr.long_cache_read_cost_per_token,
        pr.long_cache_creation_cost_per_token,
        -- the catalog row that priced the request (FOCUS SkuPriceId)
        pr.price_source || ':' || pr.provider || '/' || pr.model || '@' || strftime(pr.valid_from, '%Y-%m-%dT%H:%M:%S')
            as price_row_id
    from events as ev
    join prices as pr
      on pr.provider = ev.provider
     and pr.model = ev.model
     and pr.valid_from <= ev.event_time
     and (pr.valid_to is null or ev.event_time < pr.valid_to)
    where ev.tier <> 'self_hosted'
      -- a service tier the catalog has no rules for (fast, ...) leaves the request unpriced, never mispriced
      and tw_priceable_service_tier(ev.service_tier)
    -- latest declaration wins; on the same valid_from the seed beats an import
    qualify row_number() over (partition by ev.event_id order by tw_price_precedence(pr.valid_from, pr.source_priority) desc) = 1
)

select
    e.event_id,
    e.event_time,
    e.event_date,
    e.event_hour,
    e.tier,
    e.provider,
    e.model,
    e.workload,
    e.team,
    e.environment,
    e.tags,
    e.operation,
    e.status,
    e.error_type,
    e.batch,
    e.service_tier,
    e.shadow,
    e.deployment,
    e.input_tokens,
    e.output_tokens,
    e.cached_input_tokens,
    e.cache_creation_input_tokens,
    e.cache_creation_1h_input_tokens,
    e.reasoning_tokens,
    e.tokens_input,
    e.tokens_cache_read,
    e.tokens_cache_creation,
    e.tokens_cache_creation_1h,
    e.tokens_output,
    e.tokens_reasoning,
    e.tokens_total,
    e.duration_ms,
    e.ttft_ms,
    e.eval_score,
    case
        when e.tier = 'self_hosted' then 'gpu_hours'
        when p.event_id is null then 'unpriced'
        else 'token_price'
    end as pricing_basis,
    (e.tier <> 'self_hosted' and p.event_id is null) as is_unpriced,
    p.price_source,
    p.valid_from as price_valid_from,
    p.price_row_id,
    case when p.event_id is not null then tw_is_long_context(e.input_tokens, p.long_context_threshold_tokens) end
        as is_long_context,
    {{ tw_token_cost_columns('e', 'p') }}
from events as e
left join price_in_force as p
  on p.event_id = e.event_id
