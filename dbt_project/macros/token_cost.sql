{#-
  THE cost formula of a token-priced request (docs/costs.md). Every model that needs a request's cost
  calls this macro; nothing else multiplies tokens by prices.

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
  {%- set input_rate -%}
    case when {{ e }}.batch and {{ p }}.batch_input_cost_per_token is not null
         then {{ p }}.batch_input_cost_per_token else {{ p }}.input_cost_per_token end
  {%- endset -%}
  {%- set output_rate -%}
    case when {{ e }}.batch and {{ p }}.batch_output_cost_per_token is not null
         then {{ p }}.batch_output_cost_per_token else {{ p }}.output_cost_per_token end
  {%- endset -%}
  {{ return({
      'input': tw_money(input_rate),
      'cache_read': tw_money('coalesce(' ~ p ~ '.cache_read_cost_per_token, ' ~ input_rate ~ ')'),
      'cache_creation': tw_money('coalesce(' ~ p ~ '.cache_creation_cost_per_token, ' ~ input_rate ~ ')'),
      'output': tw_money(output_rate),
      'reasoning': tw_money('coalesce(' ~ p ~ '.reasoning_cost_per_token, ' ~ output_rate ~ ')'),
  }) }}
{%- endmacro %}

{% macro tw_token_cost_columns(e, p) -%}
  {#- Emits rate_<type>, cost_<type>_usd for the five token types and token_cost_usd. -#}
  {%- set types = tw_token_types() -%}
  {%- set rates = tw_token_rates(e, p) -%}
  {%- set products = [] -%}
  {%- for t in types -%}
    {%- do products.append(e ~ '.tokens_' ~ t ~ ' * ' ~ rates[t]) -%}
  {%- endfor %}
  {%- for t in types %}
    {{ rates[t] }} as rate_{{ t }},
  {%- endfor %}
  {%- for t in types %}
    {{ tw_money(products[loop.index0]) }} as cost_{{ t }}_usd,
  {%- endfor %}
    {{ tw_money(products | join(' + ')) }} as token_cost_usd
{%- endmacro %}
