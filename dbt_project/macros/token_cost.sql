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
  Rates (USD per token) from the price row `p` in force at event_time:
    input rate     = batch_input price when the request is a batch and one exists, else input price
    output rate    = batch_output price when the request is a batch and one exists, else output price
    cache_read     = cache_read price, else the input rate
    cache_creation = cache_creation price, else the input rate
    reasoning      = reasoning price, else the output rate
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
  {#- The rate rules live once, as DuckDB macros in sql_library.sql (the projections price with them too). -#}
  {{ return({
      'input': 'tw_rate_input(' ~ e ~ '.batch, ' ~ p ~ '.input_cost_per_token, ' ~ p ~ '.batch_input_cost_per_token)',
      'cache_read': 'tw_rate_cache_read(' ~ e ~ '.batch, ' ~ p ~ '.cache_read_cost_per_token, ' ~ p ~ '.input_cost_per_token, ' ~ p ~ '.batch_input_cost_per_token)',
      'cache_creation': 'tw_rate_cache_creation(' ~ e ~ '.batch, ' ~ p ~ '.cache_creation_cost_per_token, ' ~ p ~ '.input_cost_per_token, ' ~ p ~ '.batch_input_cost_per_token)',
      'output': 'tw_rate_output(' ~ e ~ '.batch, ' ~ p ~ '.output_cost_per_token, ' ~ p ~ '.batch_output_cost_per_token)',
      'reasoning': 'tw_rate_reasoning(' ~ e ~ '.batch, ' ~ p ~ '.reasoning_cost_per_token, ' ~ p ~ '.output_cost_per_token, ' ~ p ~ '.batch_output_cost_per_token)',
  }) }}
{%- endmacro %}

{% macro tw_token_cost_columns(e, p) -%}
  {#- Emits rate_<type>, cost_<type>_usd for the five token types and token_cost_usd (tw_mix_cost, the formula
      the projections price token mixes with). -#}
  {%- set types = tw_token_types() -%}
  {%- set rates = tw_token_rates(e, p) -%}
  {%- for t in types %}
    {{ rates[t] }} as rate_{{ t }},
  {%- endfor %}
  {%- for t in types %}
    {{ tw_money(e ~ '.tokens_' ~ t ~ ' * ' ~ rates[t]) }} as cost_{{ t }}_usd,
  {%- endfor %}
    tw_mix_cost({{ e }}.batch, {{ e }}.tokens_input, {{ e }}.tokens_cache_read, {{ e }}.tokens_cache_creation,
                {{ e }}.tokens_output, {{ e }}.tokens_reasoning,
                {{ p }}.input_cost_per_token, {{ p }}.cache_read_cost_per_token, {{ p }}.cache_creation_cost_per_token,
                {{ p }}.output_cost_per_token, {{ p }}.reasoning_cost_per_token,
                {{ p }}.batch_input_cost_per_token, {{ p }}.batch_output_cost_per_token) as token_cost_usd
{%- endmacro %}
