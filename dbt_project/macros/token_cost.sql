{#-
  THE cost formula of a token-priced request (docs/costs.md). Every model that needs a request's cost
  calls this macro; nothing else multiplies tokens by prices. The rates and the sum are the DuckDB macros
  tw_rate_<type> and tw_mix_cost of sql_library.sql, which the tier projections use for token mixes.

  Token types are exclusive:
    input          = input_tokens - cached_input_tokens - cache_creation_input_tokens
    cache_read     = cached_input_tokens
    cache_creation = cache_creation_input_tokens
    output         = output_tokens - reasoning_tokens
    reasoning      = reasoning_tokens
  cache_creation counts 5-minute and 1-hour writes; tokens_cache_creation_1h, the 1-hour part, has its own rate.
  Rates (USD per token) from the price row `p` in force at event_time, each the most specific the row has:
  the batch rate (batch requests), the service tier's (priority, flex), the long-context rate (prompt above
  the row's threshold), the standard rate; then cache reads and writes fall back to the input rate, 1-hour
  writes to the 5-minute write rate, reasoning to the output rate (tw_rate_* in sql_library.sql, docs/costs.md).
  cost = sum over types of tokens x rate. With no price row every rate is NULL, so the cost is NULL
  (unpriced), never 0.

  Arguments are SQL expressions: `e` is the alias of a relation with the tokens_* columns and `batch`,
  `p` the alias of a stg_model_prices row (or NULLs).
-#}

{% macro tw_token_types() -%}
  {#-
    The five exclusive token types, in report order. Every model with per-type columns
    (tokens_<type>, cost_<type>_usd) loops over this list rather than spelling the types out.
  -#}
  {{ return(['input', 'cache_read', 'cache_creation', 'output', 'reasoning']) }}
{%- endmacro %}

{% macro tw_token_rates(e, p) -%}
  {#- The rate rules live once, as DuckDB macros in sql_library.sql (the projections price with them too).
      `e` needs batch, service_tier and input_tokens (the prompt size that picks a long-context rate). -#}
  {%- set request = 'p_service_tier := ' ~ e ~ '.service_tier, p_long := tw_is_long_context(' ~ e ~ '.input_tokens, '
                    ~ p ~ '.long_context_threshold_tokens)' -%}
  {%- set input_variants = 'p_priority_input := ' ~ p ~ '.priority_input_cost_per_token, p_flex_input := ' ~ p
                           ~ '.flex_input_cost_per_token, p_long_input := ' ~ p ~ '.long_input_cost_per_token' -%}
  {%- set output_variants = 'p_priority_output := ' ~ p ~ '.priority_output_cost_per_token, p_flex_output := ' ~ p
                            ~ '.flex_output_cost_per_token, p_long_output := ' ~ p ~ '.long_output_cost_per_token' -%}
  {%- set creation_variants = 'p_batch_cache_creation := ' ~ p ~ '.batch_cache_creation_cost_per_token, p_long_cache_creation := '
                              ~ p ~ '.long_cache_creation_cost_per_token' -%}
  {%- set standard_input = p ~ '.input_cost_per_token, ' ~ p ~ '.batch_input_cost_per_token' -%}
  {%- set standard_output = p ~ '.output_cost_per_token, ' ~ p ~ '.batch_output_cost_per_token' -%}
  {{ return({
      'input': 'tw_rate_input(' ~ e ~ '.batch, ' ~ standard_input ~ ', ' ~ request ~ ', ' ~ input_variants ~ ')',
      'cache_read': 'tw_rate_cache_read(' ~ e ~ '.batch, ' ~ p ~ '.cache_read_cost_per_token, ' ~ standard_input ~ ', '
                    ~ request ~ ', p_batch_cache_read := ' ~ p ~ '.batch_cache_read_cost_per_token, p_priority_cache_read := '
                    ~ p ~ '.priority_cache_read_cost_per_token, p_flex_cache_read := ' ~ p ~ '.flex_cache_read_cost_per_token, '
                    ~ 'p_long_cache_read := ' ~ p ~ '.long_cache_read_cost_per_token, ' ~ input_variants ~ ')',
      'cache_creation': 'tw_rate_cache_creation(' ~ e ~ '.batch, ' ~ p ~ '.cache_creation_cost_per_token, ' ~ standard_input
                        ~ ', ' ~ request ~ ', ' ~ creation_variants ~ ', ' ~ input_variants ~ ')',
      'cache_creation_1h': 'tw_rate_cache_creation_1h(' ~ e ~ '.batch, ' ~ p ~ '.cache_creation_1h_cost_per_token, ' ~ p
                           ~ '.cache_creation_cost_per_token, ' ~ standard_input ~ ', ' ~ request ~ ', ' ~ creation_variants
                           ~ ', ' ~ input_variants ~ ')',
      'output': 'tw_rate_output(' ~ e ~ '.batch, ' ~ standard_output ~ ', ' ~ request ~ ', ' ~ output_variants ~ ')',
      'reasoning': 'tw_rate_reasoning(' ~ e ~ '.batch, ' ~ p ~ '.reasoning_cost_per_token, ' ~ standard_output ~ ', '
                   ~ request ~ ', ' ~ output_variants ~ ')',
  }) }}
{%- endmacro %}

{% macro tw_token_cost_columns(e, p) -%}
  {#- Emits rate_<type> for the five token types and rate_cache_creation_1h, cost_<type>_usd for the five types
      (cost_cache_creation_usd covers 5-minute and 1-hour writes, each at its rate), and token_cost_usd
      (tw_mix_cost, the formula the projections price token mixes with). -#}
  {%- set types = tw_token_types() -%}
  {%- set rates = tw_token_rates(e, p) -%}
  {#- optional in the contract: a row without the split wrote every cache token for 5 minutes -#}
  {%- set one_hour = 'coalesce(' ~ e ~ '.tokens_cache_creation_1h, 0)' -%}
  {%- for t in types %}
    {{ rates[t] }} as rate_{{ t }},
  {%- endfor %}
    {{ rates['cache_creation_1h'] }} as rate_cache_creation_1h,
  {%- for t in types %}
    {%- if t == 'cache_creation' %}
    {{ tw_money('(' ~ e ~ '.tokens_cache_creation - ' ~ one_hour ~ ') * ' ~ rates[t] ~ ' + '
                ~ one_hour ~ ' * ' ~ rates['cache_creation_1h']) }} as cost_{{ t }}_usd,
    {%- else %}
    {{ tw_money(e ~ '.tokens_' ~ t ~ ' * ' ~ rates[t]) }} as cost_{{ t }}_usd,
    {%- endif %}
  {%- endfor %}
    tw_mix_cost({{ e }}.batch, {{ e }}.tokens_input, {{ e }}.tokens_cache_read, {{ e }}.tokens_cache_creation,
                {{ e }}.tokens_output, {{ e }}.tokens_reasoning,
                {{ p }}.input_cost_per_token, {{ p }}.cache_read_cost_per_token, {{ p }}.cache_creation_cost_per_token,
                {{ p }}.output_cost_per_token, {{ p }}.reasoning_cost_per_token,
                {{ p }}.batch_input_cost_per_token, {{ p }}.batch_output_cost_per_token,
                t_cache_creation_1h := {{ one_hour }},
                p_service_tier := {{ e }}.service_tier,
                p_long := tw_is_long_context({{ e }}.input_tokens, {{ p }}.long_context_threshold_tokens),
                p_cache_creation_1h := {{ p }}.cache_creation_1h_cost_per_token,
                p_batch_cache_read := {{ p }}.batch_cache_read_cost_per_token,
                p_batch_cache_creation := {{ p }}.batch_cache_creation_cost_per_token,
                p_priority_input := {{ p }}.priority_input_cost_per_token,
                p_priority_output := {{ p }}.priority_output_cost_per_token,
                p_priority_cache_read := {{ p }}.priority_cache_read_cost_per_token,
                p_flex_input := {{ p }}.flex_input_cost_per_token,
                p_flex_output := {{ p }}.flex_output_cost_per_token,
                p_flex_cache_read := {{ p }}.flex_cache_read_cost_per_token,
                p_long_input := {{ p }}.long_input_cost_per_token,
                p_long_output := {{ p }}.long_output_cost_per_token,
                p_long_cache_read := {{ p }}.long_cache_read_cost_per_token,
                p_long_cache_creation := {{ p }}.long_cache_creation_cost_per_token) as token_cost_usd
{%- endmacro %}
