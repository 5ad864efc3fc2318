-- One row per LLM request with its tokens split into the five exclusive token types.
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
    ev.operation,
    ev.status,
    ev.error_type,
    ev.batch,
    ev.shadow,
    ev.eval_score,
    ev.deployment,
    ev.input_tokens,
    ev.output_tokens,
    ev.cached_input_tokens,
    ev.cache_creation_input_tokens,
    ev.reasoning_tokens,
    ev.input_tokens - ev.cached_input_tokens - ev.cache_creation_input_tokens as tokens_input,
    ev.cached_input_tokens as tokens_cache_read,
    ev.cache_creation_input_tokens as tokens_cache_creation,
    ev.output_tokens - ev.reasoning_tokens as tokens_output,
    ev.reasoning_tokens as tokens_reasoning,
    ev.input_tokens + ev.output_tokens as tokens_total,
    ev.duration_ms,
    ev.ttft_ms
from {{ source('raw', 'usage_events') }} as ev
{{ tw_join_provider_aliases('ev.provider') }}
