-- One row per LLM request with its tokens split into the five exclusive token types (cache writes also
-- by lifetime: tokens_cache_creation_1h is the part of tokens_cache_creation written for an hour).
-- provider is tierwise's id (macros/provider.sql): a hand-written `gemini` or `together_ai` event is priced
-- like the adapters' `google` / `together`; raw.usage_events keeps the spelling that was sent.
select
    ev.event_id,
    ev.event_time,
    ev.event_date,
    date_trunc('hour', ev.event_time) as event_hour,
    ev.tier,
    {{ tw_canonical_provider('ev.provider') }} as provider,
    ev.model,
    ev.workload,
    ev.team,
    ev.environment,
    ev.tags,
    ev.operation,
    ev.status,
    ev.error_type,
    ev.batch,
    -- lower case, with the providers' names for the standard tier folded into one
    case when lower(trim(ev.service_tier)) in ('default', 'auto') then 'standard'
         else lower(trim(ev.service_tier)) end as service_tier,
    ev.shadow,
    ev.eval_score,
    ev.deployment,
    ev.input_tokens,
    ev.output_tokens,
    ev.cached_input_tokens,
    ev.cache_creation_input_tokens,
    coalesce(ev.cache_creation_1h_input_tokens, 0) as cache_creation_1h_input_tokens,
    ev.reasoning_tokens,
    ev.input_tokens - ev.cached_input_tokens - ev.cache_creation_input_tokens as tokens_input,
    ev.cached_input_tokens as tokens_cache_read,
    ev.cache_creation_input_tokens as tokens_cache_creation,  -- 5-minute and 1-hour writes
    coalesce(ev.cache_creation_1h_input_tokens, 0) as tokens_cache_creation_1h,  -- the 1-hour part
    ev.output_tokens - ev.reasoning_tokens as tokens_output,
    ev.reasoning_tokens as tokens_reasoning,
    ev.input_tokens + ev.output_tokens as tokens_total,
    ev.duration_ms,
    ev.ttft_ms
from {{ source('raw', 'usage_events') }} as ev
{{ tw_join_provider_aliases('ev.provider') }}
