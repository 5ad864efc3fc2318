{#-
  tierwise's SQL library: the one implementation of the token rates, the price precedence, GPU sizing,
  self-hosting cost, the break-even math, the tier projection and the tier decision (docs/decisions.md).

  It is plain DuckDB SQL (CREATE OR REPLACE MACRO ...), wrapped in a dbt macro only so that dbt can run it:
    - dbt creates the macros in the warehouse at the start of every invocation (on-run-start in
      dbt_project.yml calls tw_create_sql_library), and the models call them;
    - the CLI renders this same file with Jinja and runs it in an in-memory DuckDB for
      `tierwise breakeven` and `tierwise recommend --scenario` (decisions/sql_library.py).
  So nothing below may use dbt's Jinja context (no ref, var, or other macros): the text is run as it is, as
  one multi-statement script.

  Table macros take relation names (strings) and read them with query_table(), so dbt passes its refs and
  the CLI passes its in-memory tables. Their input columns are listed with each macro. Money is
  DECIMAL(38,12) and never divided with `/` (DuckDB would make it a DOUBLE): tw_money_div divides in integer
  units of 1e-12 USD, rounding half up. Volumes, throughput and shares are not money and may be DOUBLE.
-#}

{% macro tw_create_sql_library() %}
{{ tw_sql_library() }}
{% endmacro %}

{% macro tw_sql_library() %}
-- ---- money --------------------------------------------------------------------------------------------

-- amount / denominator, rounded half up to 1e-12 (both non-negative, denominator a positive integer).
create or replace macro tw_money_div(p_amount, p_denominator) as
  cast(
    cast(((cast(cast(p_amount as decimal(38, 12)) * 1000000000000 as hugeint) * 2 + cast(p_denominator as hugeint))
          // (cast(p_denominator as hugeint) * 2)) as decimal(38, 0))
    * cast(0.000000000001 as decimal(38, 12))
  as decimal(38, 12));

create or replace macro tw_fmt_usd(p_amount) as
  case when p_amount is null then 'unpriced'
       when p_amount < 0 then format('-${:,.2f}', -cast(p_amount as double))
       else format('${:,.2f}', cast(p_amount as double)) end;

create or replace macro tw_fmt_tokens(p_tokens) as
  case when p_tokens is null then 'n/a'
       when p_tokens >= 1000000000 then format('{:,.2f}B', p_tokens / 1e9)
       when p_tokens >= 1000000 then format('{:,.1f}M', p_tokens / 1e6)
       when p_tokens >= 1000 then format('{:,.1f}k', p_tokens / 1e3)
       else format('{:,}', cast(p_tokens as bigint)) end;

create or replace macro tw_fmt_pct(p_share) as format('{:.1f}%', 100 * cast(p_share as double));

create or replace macro tw_fmt_signed_pct(p_share) as format('{:+.1f}%', 100 * cast(p_share as double));

-- ---- the price catalog and the token rates (docs/costs.md) --------------------------------------------

-- Order key of competing price rows in force: the latest valid_from wins, then the seed (priority 0) over
-- an import (1). Sort descending and keep the first.
create or replace macro tw_price_precedence(p_valid_from, p_source_priority) as
  [epoch_us(p_valid_from), -p_source_priority];

-- The rate of each token type, from a price row (NULL prices: the request is unpriced). docs/costs.md
-- states the rules; in short, each rate is the most specific one the row has, in this order:
--   1. the batch rate, for a batch request;
--   2. the rate of the request's service tier (priority, flex);
--   3. the long-context rate, when the prompt (input_tokens, cache included) is above the row's threshold;
--   4. the standard rate;
--   5. then the type's fallback: cache reads and 5-minute cache writes pay the input rate, 1-hour cache
--      writes the 5-minute write rate, reasoning the output rate (each resolved by 1-4 in turn).
-- A missing variant never becomes a discount or a multiplier tierwise made up. The optional (named)
-- arguments are the variant prices; callers that price plain mixes (the tier projections) leave them out.

-- Is the prompt above the price row's long-context threshold (LiteLLM's *_above_<N>k_tokens)?
create or replace macro tw_is_long_context(p_prompt_tokens, p_threshold) as
  coalesce(p_prompt_tokens > p_threshold, false);

-- Steps 1-4 for one token type: the first variant that applies and exists, else the standard rate.
create or replace macro tw_pick_rate(p_batch, p_service_tier, p_long, v_standard,
    v_batch := null, v_priority := null, v_flex := null, v_long := null) as
  coalesce(
    case when p_batch then v_batch end,
    case when p_service_tier = 'priority' then v_priority when p_service_tier = 'flex' then v_flex end,
    case when p_long then v_long end,
    v_standard);

create or replace macro tw_rate_input(p_batch, p_input, p_batch_input,
    p_service_tier := null, p_long := false, p_priority_input := null, p_flex_input := null, p_long_input := null) as
  cast(tw_pick_rate(p_batch, p_service_tier, p_long, p_input, v_batch := p_batch_input,
                    v_priority := p_priority_input, v_flex := p_flex_input, v_long := p_long_input) as decimal(38, 12));

create or replace macro tw_rate_output(p_batch, p_output, p_batch_output,
    p_service_tier := null, p_long := false, p_priority_output := null, p_flex_output := null, p_long_output := null) as
  cast(tw_pick_rate(p_batch, p_service_tier, p_long, p_output, v_batch := p_batch_output,
                    v_priority := p_priority_output, v_flex := p_flex_output, v_long := p_long_output) as decimal(38, 12));

create or replace macro tw_rate_cache_read(p_batch, p_cache_read, p_input, p_batch_input,
    p_service_tier := null, p_long := false, p_batch_cache_read := null, p_priority_cache_read := null,
    p_flex_cache_read := null, p_long_cache_read := null,
    p_priority_input := null, p_flex_input := null, p_long_input := null) as
  cast(coalesce(
    tw_pick_rate(p_batch, p_service_tier, p_long, p_cache_read, v_batch := p_batch_cache_read,
                 v_priority := p_priority_cache_read, v_flex := p_flex_cache_read, v_long := p_long_cache_read),
    tw_rate_input(p_batch, p_input, p_batch_input, p_service_tier := p_service_tier, p_long := p_long,
                  p_priority_input := p_priority_input, p_flex_input := p_flex_input, p_long_input := p_long_input))
  as decimal(38, 12));

create or replace macro tw_rate_cache_creation(p_batch, p_cache_creation, p_input, p_batch_input,
    p_service_tier := null, p_long := false, p_batch_cache_creation := null, p_long_cache_creation := null,
    p_priority_input := null, p_flex_input := null, p_long_input := null) as
  cast(coalesce(
    tw_pick_rate(p_batch, p_service_tier, p_long, p_cache_creation, v_batch := p_batch_cache_creation,
                 v_long := p_long_cache_creation),
    tw_rate_input(p_batch, p_input, p_batch_input, p_service_tier := p_service_tier, p_long := p_long,
                  p_priority_input := p_priority_input, p_flex_input := p_flex_input, p_long_input := p_long_input))
  as decimal(38, 12));

-- 1-hour cache writes: their own rate (no batch, tier or long-context variant is published), else the
-- 5-minute write rate the request gets.
create or replace macro tw_rate_cache_creation_1h(p_batch, p_cache_creation_1h, p_cache_creation, p_input, p_batch_input,
    p_service_tier := null, p_long := false, p_batch_cache_creation := null, p_long_cache_creation := null,
    p_priority_input := null, p_flex_input := null, p_long_input := null) as
  cast(coalesce(
    p_cache_creation_1h,
    tw_rate_cache_creation(p_batch, p_cache_creation, p_input, p_batch_input, p_service_tier := p_service_tier,
                           p_long := p_long, p_batch_cache_creation := p_batch_cache_creation,
                           p_long_cache_creation := p_long_cache_creation, p_priority_input := p_priority_input,
                           p_flex_input := p_flex_input, p_long_input := p_long_input))
  as decimal(38, 12));

create or replace macro tw_rate_reasoning(p_batch, p_reasoning, p_output, p_batch_output,
    p_service_tier := null, p_long := false, p_priority_output := null, p_flex_output := null, p_long_output := null) as
  cast(coalesce(p_reasoning,
                tw_rate_output(p_batch, p_output, p_batch_output, p_service_tier := p_service_tier, p_long := p_long,
                               p_priority_output := p_priority_output, p_flex_output := p_flex_output,
                               p_long_output := p_long_output))
  as decimal(38, 12));

-- THE cost of a token mix (one request, or a day of a workload's tokens) under one price row.
-- t_cache_creation counts every cache write; t_cache_creation_1h is the part of it written for an hour.
create or replace macro tw_mix_cost(
    p_batch, t_input, t_cache_read, t_cache_creation, t_output, t_reasoning,
    p_input, p_cache_read, p_cache_creation, p_output, p_reasoning, p_batch_input, p_batch_output,
    t_cache_creation_1h := 0, p_service_tier := null, p_long := false, p_cache_creation_1h := null,
    p_batch_cache_read := null, p_batch_cache_creation := null,
    p_priority_input := null, p_priority_output := null, p_priority_cache_read := null,
    p_flex_input := null, p_flex_output := null, p_flex_cache_read := null,
    p_long_input := null, p_long_output := null, p_long_cache_read := null, p_long_cache_creation := null) as
  cast(
      cast(t_input as bigint)
        * tw_rate_input(p_batch, p_input, p_batch_input, p_service_tier := p_service_tier, p_long := p_long,
                        p_priority_input := p_priority_input, p_flex_input := p_flex_input, p_long_input := p_long_input)
    + cast(t_cache_read as bigint)
        * tw_rate_cache_read(p_batch, p_cache_read, p_input, p_batch_input, p_service_tier := p_service_tier,
                             p_long := p_long, p_batch_cache_read := p_batch_cache_read,
                             p_priority_cache_read := p_priority_cache_read, p_flex_cache_read := p_flex_cache_read,
                             p_long_cache_read := p_long_cache_read, p_priority_input := p_priority_input,
                             p_flex_input := p_flex_input, p_long_input := p_long_input)
    + cast(t_cache_creation - t_cache_creation_1h as bigint)
        * tw_rate_cache_creation(p_batch, p_cache_creation, p_input, p_batch_input, p_service_tier := p_service_tier,
                                 p_long := p_long, p_batch_cache_creation := p_batch_cache_creation,
                                 p_long_cache_creation := p_long_cache_creation, p_priority_input := p_priority_input,
                                 p_flex_input := p_flex_input, p_long_input := p_long_input)
    + cast(t_cache_creation_1h as bigint)
        * tw_rate_cache_creation_1h(p_batch, p_cache_creation_1h, p_cache_creation, p_input, p_batch_input,
                                    p_service_tier := p_service_tier, p_long := p_long,
                                    p_batch_cache_creation := p_batch_cache_creation,
                                    p_long_cache_creation := p_long_cache_creation, p_priority_input := p_priority_input,
                                    p_flex_input := p_flex_input, p_long_input := p_long_input)
    + cast(t_output as bigint)
        * tw_rate_output(p_batch, p_output, p_batch_output, p_service_tier := p_service_tier, p_long := p_long,
                         p_priority_output := p_priority_output, p_flex_output := p_flex_output,
                         p_long_output := p_long_output)
    + cast(t_reasoning as bigint)
        * tw_rate_reasoning(p_batch, p_reasoning, p_output, p_batch_output, p_service_tier := p_service_tier,
                            p_long := p_long, p_priority_output := p_priority_output, p_flex_output := p_flex_output,
                            p_long_output := p_long_output)
  as decimal(38, 12));

-- Service tiers the catalog can price: none given, standard, batch (the batch flag prices it), priority
-- and flex (their own rates, else standard). Any other tier (fast, ultrafast, scale, ...) is billed by
-- rules the catalog does not carry, so such a request is unpriced rather than priced at the wrong rate.
create or replace macro tw_priceable_service_tier(p_service_tier) as
  p_service_tier is null or p_service_tier in ('standard', 'default', 'auto', 'batch', 'priority', 'flex');

-- Which tier an API price row belongs to. Mirrors PROVIDER_TIERS in ingest/adapters/providers.py (a unit
-- test keeps them equal); a provider it does not name is a closed API.
create or replace macro tw_provider_tier(p_provider) as
  case when p_provider in ('together', 'fireworks', 'groq', 'deepinfra') then 'hosted_open_api'
       when p_provider in ('vllm', 'sglang', 'openai_compatible') then 'self_hosted'
       else 'closed_api' end;

-- ---- volumes, GPU sizing and self-hosting cost ---------------------------------------------------------

-- A token count measured at volume p_base scaled to volume p_volume (tokens/day), whole tokens, half up.
create or replace macro tw_scale_tokens(p_tokens, p_volume, p_base) as
  case when coalesce(p_base, 0) = 0 then cast(0 as bigint)
       else cast((cast(p_tokens as hugeint) * p_volume * 2 + p_base) // (cast(p_base as hugeint) * 2) as bigint) end;

-- Tokens one GPU serves in an hour at the target utilization (rounded down); the engine's prefix speed-up
-- counts in proportion to the cached-prefix share of the traffic.
create or replace macro tw_gpu_hour_capacity(p_tokens_per_second, p_prefix_speedup, p_cached_share, p_target_utilization) as
  cast(floor(cast(p_tokens_per_second as double)
             * (1 + cast(p_prefix_speedup as double) * coalesce(cast(p_cached_share as double), 0))
             * cast(p_target_utilization as double) * 3600) as bigint);

-- Tokens in the sized peak hour of a day's volume, given the workload's peak-to-mean hour ratio (rounded up).
create or replace macro tw_peak_hour_tokens(p_tokens_per_day, p_peak_to_mean) as
  cast(ceil(cast(p_tokens_per_day as double) * cast(p_peak_to_mean as double) / 24) as bigint);

-- GPUs = max(reliability minimum, ceil(peak / capacity)), in whole replicas of the model.
create or replace macro tw_gpus_needed(p_peak_hour_tokens, p_gpu_hour_capacity, p_min_gpus, p_gpus_per_replica) as
  cast(p_gpus_per_replica * ((greatest(p_min_gpus, (p_peak_hour_tokens + p_gpu_hour_capacity - 1) // p_gpu_hour_capacity, 1)
                              + p_gpus_per_replica - 1) // p_gpus_per_replica) as integer);

create or replace macro tw_gpu_monthly(p_gpus, p_hourly_price, p_hours_per_month) as
  cast(cast(p_hourly_price as decimal(38, 12)) * cast(p_gpus * p_hours_per_month as bigint) as decimal(38, 12));

create or replace macro tw_ops_monthly(p_ops_fte, p_salary) as
  tw_money_div(cast(p_ops_fte * p_salary as decimal(38, 12)), 12);

create or replace macro tw_setup_cost(p_setup_fte, p_salary, p_setup_months) as
  tw_money_div(cast(p_setup_fte * p_salary as decimal(38, 12)) * cast(p_setup_months as bigint), 12);

create or replace macro tw_amortized(p_amount, p_months) as
  case when p_months > 0 then tw_money_div(p_amount, p_months) else cast(0 as decimal(38, 12)) end;

-- ---- the break-even volume ------------------------------------------------------------------------------
-- A per-token tier costs a x V a month at V tokens/day. A self-hosted option costs f + g x n(V): fixed staff
-- cost f, g per GPU, n(V) GPUs in whole replicas of r, at least m, each covering c tokens/day at the sized
-- peak. Because n(V) steps up, the two curves can cross more than once; the break-even is the volume from
-- which self-hosting is cheaper at every larger volume (docs/decisions.md derives the closed form):
--   none when a x c <= g (a GPU's worth of tokens costs less on the API than the GPU itself)
--   else n* = m + r x (max(1, ceil(((a c r + f) / (a c - g) - m) / r)) - 1),  V* = (f + g n*) / a, rounded up.
create or replace macro tw_breakeven_steps(p_a, p_f, p_g, p_r, p_m, p_c) as
  case when p_a is null or p_f is null or p_g is null or p_c is null or p_a <= 0 or p_c <= 0 or p_a * p_c <= p_g then null
       else cast(ceil((p_f + p_g * (p_m + p_r * (greatest(1, ceil(((p_a * p_c * p_r + p_f) / (p_a * p_c - p_g) - p_m) / p_r)) - 1)))
                      / p_a) as bigint) end;

-- The same from the quantities the projections carry: the per-token tier's monthly cost at volume p_volume,
-- and the self-hosted option's staff cost, price per GPU-month, replica size, reliability minimum, GPU-hour
-- capacity and the workload's peak-to-mean ratio.
create or replace macro tw_breakeven_api_vs_selfhost(
    p_api_monthly, p_volume, p_fixed_monthly, p_gpu_monthly_each, p_min_gpus, p_gpus_per_replica,
    p_gpu_hour_capacity, p_peak_to_mean) as
  tw_breakeven_steps(
    cast(p_api_monthly as double) / nullif(cast(p_volume as double), 0),
    cast(p_fixed_monthly as double),
    cast(p_gpu_monthly_each as double),
    cast(p_gpus_per_replica as double),
    cast(p_gpus_per_replica * ((p_min_gpus + p_gpus_per_replica - 1) // p_gpus_per_replica) as double),
    cast(p_gpu_hour_capacity as double) * 24 / nullif(cast(p_peak_to_mean as double), 0));

-- ---- latency sketches -----------------------------------------------------------------------------------
-- Percentiles over many days cannot be averaged from daily percentiles; daily marts keep a mergeable sketch
-- instead (DDSketch): counts per logarithmic bucket of relative width 2%, so any quantile over any set of days
-- is within 2% of the exact value. Bucket i holds values in (gamma^(i-1), gamma^i].
create or replace macro tw_sketch_gamma() as (1 + 0.02) / (1 - 0.02);

create or replace macro tw_sketch_bucket(p_ms) as
  cast(ceil(ln(greatest(cast(p_ms as double), 0.01)) / ln(tw_sketch_gamma())) as integer);

create or replace macro tw_sketch_value(p_bucket) as 2 * pow(tw_sketch_gamma(), p_bucket) / (tw_sketch_gamma() + 1);

-- p50/p90/p99 per (workload, tier, provider, model, metric) of rel: those columns plus bucket and requests.
-- The q-quantile is the first bucket whose cumulative count passes q x (n - 1), as DDSketch defines it.
create or replace macro tw_sketch_quantiles(rel) as table
with b as (
    select workload, tier, provider, model, metric, bucket, sum(requests) as n
    from query_table(rel)
    group by all
),
c as (
    select
        *,
        sum(n) over (partition by workload, tier, provider, model, metric order by bucket rows unbounded preceding) as cum,
        sum(n) over (partition by workload, tier, provider, model, metric) as total
    from b
)
select
    workload, tier, provider, model, metric,
    cast(any_value(total) as bigint) as latency_n,
    tw_sketch_value(min(bucket) filter (where cum > 0.50 * (total - 1))) as p50_ms,
    tw_sketch_value(min(bucket) filter (where cum > 0.90 * (total - 1))) as p90_ms,
    tw_sketch_value(min(bucket) filter (where cum > 0.99 * (total - 1))) as p99_ms
from c
group by all;

-- ---- assumptions ----------------------------------------------------------------------------------------
-- One row: the named assumptions (projection_assumptions) and the staff economics (selfhost_assumptions)
-- in force at p_as_of, typed, plus `sources`: every one of them with its value, unit, valid_from and source.
-- rel_named columns: name, valid_from, valid_to, value, unit, source.
-- rel_staff columns: valid_from, valid_to, ops_fte, loaded_salary_usd_per_year, setup_fte, setup_months,
--   min_gpus_per_deployment, note.
create or replace macro tw_assumptions(rel_named, rel_staff, p_as_of) as table
with named as (
    select * from query_table(rel_named)
    where valid_from <= p_as_of and (valid_to is null or p_as_of < valid_to)
),
staff as (
    select * from query_table(rel_staff)
    where valid_from <= p_as_of and (valid_to is null or p_as_of < valid_to)
    order by valid_from desc
    limit 1
),
staff_sources as (
    select unnest([
        {'name': 'ops_fte', 'value': cast(ops_fte as varchar), 'unit': 'FTE', 'valid_from': valid_from, 'source': note},
        {'name': 'loaded_salary_usd_per_year', 'value': cast(loaded_salary_usd_per_year as varchar), 'unit': 'USD/year', 'valid_from': valid_from, 'source': note},
        {'name': 'setup_fte', 'value': cast(setup_fte as varchar), 'unit': 'FTE', 'valid_from': valid_from, 'source': note},
        {'name': 'setup_months', 'value': cast(setup_months as varchar), 'unit': 'months', 'valid_from': valid_from, 'source': note},
        {'name': 'min_gpus_per_deployment', 'value': cast(min_gpus_per_deployment as varchar), 'unit': 'GPUs', 'valid_from': valid_from, 'source': note}
    ]) as s
    from staff
),
all_sources as (
    select {'name': name, 'value': cast(cast(value as double) as varchar), 'unit': unit, 'valid_from': valid_from, 'source': source} as s
    from named
    union all
    select s from staff_sources
)
select
    cast(p_as_of as timestamp) as as_of,
    cast((select value from named where name = 'days_per_month') as integer) as days_per_month,
    cast((select value from named where name = 'hours_per_month') as integer) as hours_per_month,
    cast((select value from named where name = 'target_utilization') as decimal(9, 4)) as target_utilization,
    cast((select value from named where name = 'amortization_months') as integer) as amortization_months,
    cast((select value from named where name = 'closed_max_tokens_per_day') as bigint) as closed_max_tokens_per_day,
    cast((select value from named where name = 'selfhost_min_tokens_per_day') as bigint) as selfhost_min_tokens_per_day,
    cast((select value from named where name = 'min_ops_fte') as decimal(9, 4)) as min_ops_fte,
    cast((select value from named where name = 'quality_gate') as double) as quality_gate,
    cast((select value from named where name = 'min_eval_samples') as integer) as min_eval_samples,
    cast((select value from named where name = 'min_savings_share') as double) as min_savings_share,
    cast((select value from named where name = 'min_savings_usd') as decimal(38, 12)) as min_savings_usd,
    cast((select value from named where name = 'peak_quantile') as double) as peak_quantile,
    cast((select value from named where name = 'window_days') as integer) as window_days,
    cast((select value from named where name = 'forecast_weeks') as integer) as forecast_weeks,
    cast((select value from named where name = 'forecast_min_weeks') as integer) as forecast_min_weeks,
    cast((select value from named where name = 'forecast_flat_growth') as double) as forecast_flat_growth,
    cast((select value from named where name = 'forecast_horizon_days') as integer) as forecast_horizon_days,
    cast((select value from named where name = 'default_input_share') as double) as default_input_share,
    cast((select value from named where name = 'default_peak_to_mean') as double) as default_peak_to_mean,
    cast((select ops_fte from staff) as decimal(38, 12)) as staff_ops_fte,
    cast((select loaded_salary_usd_per_year from staff) as decimal(38, 12)) as staff_salary,
    cast((select setup_fte from staff) as decimal(38, 12)) as staff_setup_fte,
    cast((select setup_months from staff) as integer) as staff_setup_months,
    cast((select min_gpus_per_deployment from staff) as integer) as min_gpus,
    (select list(s order by s.name) from all_sources) as sources;

-- ---- candidate options ----------------------------------------------------------------------------------
-- Every way a catalogued model can be served, priced at p_as_of: one row per API price row in force
-- (tier from tw_provider_tier) and, for self-hosting, one row per model x (GPU type, engine, quantization)
-- combination the throughput seed knows. A row that cannot be costed says why in unavailable_reason.
-- rel_prices: stg_model_prices columns (provider, model, valid_from, valid_to, the seven *_cost_per_token,
--   price_source, source_priority). rel_catalog: model_catalog. rel_licenses: model_licenses.
-- rel_throughput: gpu_throughput. rel_gpu_prices: gpu_type, valid_from, valid_to, hourly_price_usd, note.
create or replace macro tw_candidate_options(rel_prices, rel_catalog, rel_licenses, rel_throughput, rel_gpu_prices, p_as_of) as table
with catalog as (
    select
        c.model, c.capability_class, c.size_class, c.source as catalog_source,
        l.publisher, l.license, l.commercial_use,
        coalesce(l.weights_available, false) as weights_available,
        coalesce(l.eu_restricted, false) as eu_restricted,
        l.mau_limit, l.restrictions
    from query_table(rel_catalog) as c
    left join query_table(rel_licenses) as l on l.model = c.model
),
prices as (
    select *
    from query_table(rel_prices)
    where valid_from <= p_as_of and (valid_to is null or p_as_of < valid_to)
    qualify row_number() over (
        partition by provider, model order by tw_price_precedence(valid_from, source_priority) desc) = 1
),
api as (
    select
        tw_provider_tier(p.provider) as tier,
        p.provider,
        p.model,
        p.input_cost_per_token as input_price,
        p.cache_read_cost_per_token as cache_read_price,
        p.cache_creation_cost_per_token as cache_creation_price,
        p.output_cost_per_token as output_price,
        p.reasoning_cost_per_token as reasoning_price,
        p.batch_input_cost_per_token as batch_input_price,
        p.batch_output_cost_per_token as batch_output_price,
        p.valid_from as price_valid_from,
        p.price_source,
        cast(null as varchar) as gpu_type,
        cast(null as varchar) as engine,
        cast(null as varchar) as quantization,
        cast(null as decimal(18, 3)) as tokens_per_second,
        cast(null as integer) as gpus_per_replica,
        cast(null as decimal(9, 4)) as prefix_speedup,
        cast(0 as decimal(9, 4)) as quality_loss_max,
        cast(null as timestamp) as throughput_valid_from,
        cast(null as varchar) as throughput_source,
        cast(null as decimal(38, 12)) as gpu_hourly_price,
        cast(null as timestamp) as gpu_price_valid_from,
        cast(null as varchar) as gpu_price_source,
        cast(null as varchar) as unavailable_reason
    from prices as p
    where tw_provider_tier(p.provider) <> 'self_hosted'
),
throughput as (
    select * from query_table(rel_throughput)
    where valid_from <= p_as_of and (valid_to is null or p_as_of < valid_to)
),
combos as (
    select distinct gpu_type, engine, quantization from throughput
),
gpu_prices as (
    select * from query_table(rel_gpu_prices)
    where valid_from <= p_as_of and (valid_to is null or p_as_of < valid_to)
    qualify row_number() over (partition by gpu_type order by valid_from desc) = 1
),
self_grid as (
    -- open-weight models with a size class: every known (GPU, engine, quantization) combination
    select c.model, k.gpu_type, k.engine, k.quantization
    from catalog as c cross join combos as k
    where c.weights_available and c.size_class is not null
    union all
    -- API-only models and models without a size class: one row that says why they cannot be self-hosted
    select c.model, null, null, null
    from catalog as c
    where not c.weights_available or c.size_class is null
),
self_hosted as (
    select
        'self_hosted' as tier,
        coalesce(g.engine, 'self_hosted') as provider,
        g.model,
        cast(null as decimal(38, 12)) as input_price,
        cast(null as decimal(38, 12)) as cache_read_price,
        cast(null as decimal(38, 12)) as cache_creation_price,
        cast(null as decimal(38, 12)) as output_price,
        cast(null as decimal(38, 12)) as reasoning_price,
        cast(null as decimal(38, 12)) as batch_input_price,
        cast(null as decimal(38, 12)) as batch_output_price,
        cast(null as timestamp) as price_valid_from,
        cast(null as varchar) as price_source,
        g.gpu_type,
        g.engine,
        g.quantization,
        t.tokens_per_second,
        t.gpus_per_replica,
        t.prefix_speedup,
        coalesce(t.quality_loss_max, 0) as quality_loss_max,
        t.valid_from as throughput_valid_from,
        t.source as throughput_source,
        gp.hourly_price_usd as gpu_hourly_price,
        gp.valid_from as gpu_price_valid_from,
        gp.note as gpu_price_source,
        case
            when not c.weights_available then null  -- the license rule says it: API only
            when c.size_class is null then format('no size class for {}: no self-hosting assumption', g.model)
            when t.size_class is null then format('no throughput assumption for {} ({}) on {} {} {}',
                                                  g.model, c.size_class, g.gpu_type, g.engine, g.quantization)
            when gp.gpu_type is null then format('no GPU price for {}', g.gpu_type)
        end as unavailable_reason
    from self_grid as g
    join catalog as c on c.model = g.model
    left join throughput as t
      on t.size_class = c.size_class and t.gpu_type = g.gpu_type and t.engine = g.engine and t.quantization = g.quantization
    left join gpu_prices as gp on gp.gpu_type = g.gpu_type
),
options as (
    select * from api
    union all
    select * from self_hosted
)
select
    concat_ws('|', o.tier, case when o.tier <> 'self_hosted' then o.provider end, o.model, o.gpu_type, o.engine, o.quantization) as option_id,
    o.*,
    c.capability_class,
    c.size_class,
    c.catalog_source,
    c.publisher,
    c.license,
    c.commercial_use,
    coalesce(c.weights_available, false) as weights_available,
    coalesce(c.eu_restricted, false) as eu_restricted,
    c.mau_limit,
    c.restrictions
from options as o
left join catalog as c on c.model = o.model;

-- ---- option costs at a volume ---------------------------------------------------------------------------
-- Monthly cost of serving a workload's token mix through an option at `volume` tokens/day.
-- rel columns: volume, base_volume (the volume the tpd_* columns were measured at), tpd_<type> and
--   btpd_<type> (interactive and batch tokens/day of the five token types at base_volume), cached_share,
--   peak_to_mean, the option columns of tw_candidate_options and the assumption columns of tw_assumptions.
-- Adds: v_<type>/vb_<type> (the mix at `volume`), api_monthly_cost_usd, gpu_hour_capacity, peak_hour_tokens,
--   gpus, gpu_monthly_each_usd, gpu_monthly_cost_usd, ops_monthly_cost_usd, setup_cost_usd,
--   setup_monthly_cost_usd, run_rate_monthly_cost_usd (GPUs + ops) and monthly_cost_usd (NULL: no cost).
create or replace macro tw_option_costs(rel) as table
with scaled as (
    select
        *,
        tw_scale_tokens(tpd_input, volume, base_volume) as v_input,
        tw_scale_tokens(tpd_cache_read, volume, base_volume) as v_cache_read,
        tw_scale_tokens(tpd_cache_creation, volume, base_volume) as v_cache_creation,
        tw_scale_tokens(tpd_output, volume, base_volume) as v_output,
        tw_scale_tokens(tpd_reasoning, volume, base_volume) as v_reasoning,
        tw_scale_tokens(btpd_input, volume, base_volume) as vb_input,
        tw_scale_tokens(btpd_cache_read, volume, base_volume) as vb_cache_read,
        tw_scale_tokens(btpd_cache_creation, volume, base_volume) as vb_cache_creation,
        tw_scale_tokens(btpd_output, volume, base_volume) as vb_output,
        tw_scale_tokens(btpd_reasoning, volume, base_volume) as vb_reasoning
    from query_table(rel)
),
sized as (
    select
        *,
        case when tier = 'self_hosted' and tokens_per_second is not null then
            tw_gpu_hour_capacity(tokens_per_second, prefix_speedup, cached_share, target_utilization) end as gpu_hour_capacity,
        tw_peak_hour_tokens(volume, peak_to_mean) as peak_hour_tokens
    from scaled
),
costed as (
    select
        *,
        case when tier <> 'self_hosted' and input_price is not null then
            cast((tw_mix_cost(false, v_input, v_cache_read, v_cache_creation, v_output, v_reasoning,
                              input_price, cache_read_price, cache_creation_price, output_price, reasoning_price,
                              batch_input_price, batch_output_price)
                  + tw_mix_cost(true, vb_input, vb_cache_read, vb_cache_creation, vb_output, vb_reasoning,
                                input_price, cache_read_price, cache_creation_price, output_price, reasoning_price,
                                batch_input_price, batch_output_price))
                 * days_per_month as decimal(38, 12)) end as api_monthly_cost_usd,
        case when gpu_hour_capacity > 0 and unavailable_reason is null then
            tw_gpus_needed(peak_hour_tokens, gpu_hour_capacity, min_gpus, gpus_per_replica) end as gpus,
        case when tier = 'self_hosted' and gpu_hourly_price is not null then
            tw_gpu_monthly(1, gpu_hourly_price, hours_per_month) end as gpu_monthly_each_usd,
        case when tier = 'self_hosted' then tw_ops_monthly(staff_ops_fte, staff_salary) end as ops_monthly_cost_usd,
        case when tier = 'self_hosted' then tw_setup_cost(staff_setup_fte, staff_salary, staff_setup_months) end as setup_cost_usd
    from sized
),
self_costed as (
    select
        *,
        case when gpus is not null and gpu_monthly_each_usd is not null then
            tw_gpu_monthly(gpus, gpu_hourly_price, hours_per_month) end as gpu_monthly_cost_usd,
        case when tier = 'self_hosted' then tw_amortized(setup_cost_usd, amortization_months) end as setup_monthly_cost_usd
    from costed
)
select
    *,
    cast(gpu_monthly_cost_usd + ops_monthly_cost_usd as decimal(38, 12)) as run_rate_monthly_cost_usd,
    cast(case when tier = 'self_hosted' then gpu_monthly_cost_usd + ops_monthly_cost_usd + setup_monthly_cost_usd
              else api_monthly_cost_usd end as decimal(38, 12)) as monthly_cost_usd
from self_costed;

-- ---- the tier projection --------------------------------------------------------------------------------
-- One row per workload x option it could move to (same capability class, or the workload's own list), plus
-- one row for what it runs today (is_current): cost at today's volume, savings, break-even volume against
-- today's tier, payback, quality and latency evidence, and the rules that block the option.
-- rel_workloads (one row per workload; NULL config fields take the stated defaults):
--   workload, tier_now, provider_now, model_now, current_gpu_type, current_engine, current_quantization, current_gpus,
--   volume, tpd_<type>, btpd_<type>, cached_share, peak_to_mean, observed_monthly_cost_usd,
--   data_class (internal), ops_fte (0), customization (false), latency_slo_ms, capability_class (the current
--   model's), candidate_models, exclude_models, domicile, eu_domiciled (false), monthly_active_users (0).
-- rel_options: tw_candidate_options. rel_evals: workload, model, eval_n, eval_mean, baseline_n,
--   baseline_mean, eval_gap (candidate / baseline - 1; model '*' applies to every candidate).
-- rel_latency: workload, tier, provider, model, latency_n, p50_ms, p90_ms, p99_ms. rel_assumptions: tw_assumptions.
create or replace macro tw_tier_projection(rel_workloads, rel_options, rel_evals, rel_latency, rel_assumptions) as table
with a as (
    select * from query_table(rel_assumptions)
),
opts as (
    select * from query_table(rel_options)
),
w as (
    select
        w.*,
        coalesce(w.data_class, 'internal') as data_class_used,
        coalesce(w.data_class, 'internal') in ('pii', 'health', 'financial', 'defense', 'legal') as sensitive,
        cast(coalesce(w.ops_fte, 0) as decimal(9, 4)) as ops_fte_used,
        coalesce(w.customization, false) as customization_used,
        coalesce(w.eu_domiciled, false) as eu_used,
        coalesce(w.monthly_active_users, 0) as mau_used,
        coalesce(w.capability_class,
                 (select any_value(o.capability_class) from opts as o where o.model = w.model_now),
                 'production') as class_used
    from query_table(rel_workloads) as w
),
pairs as (
    select
        w.workload, w.volume, w.volume as base_volume,
        w.tpd_input, w.tpd_cache_read, w.tpd_cache_creation, w.tpd_output, w.tpd_reasoning,
        w.btpd_input, w.btpd_cache_read, w.btpd_cache_creation, w.btpd_output, w.btpd_reasoning,
        w.cached_share, w.peak_to_mean,
        (o.tier = w.tier_now and o.model = w.model_now and (o.tier = 'self_hosted' or o.provider = w.provider_now)) as same_as_current,
        (o.tier = 'self_hosted' and w.tier_now = 'self_hosted' and o.model = w.model_now
         and o.gpu_type is not distinct from w.current_gpu_type and o.engine is not distinct from w.current_engine
         and o.quantization is not distinct from w.current_quantization) as exact_current_config,
        o.*,
        a.*
    from w
    join opts as o
      on (o.model = w.model_now
          or case when len(coalesce(w.candidate_models, [])) > 0 then list_contains(w.candidate_models, o.model)
                  else o.capability_class = w.class_used end)
     and not list_contains(coalesce(w.exclude_models, []), o.model)
    cross join a
),
missing as (
    -- today's option when no catalog row matches it (an unpriced model): a row without a cost, so that the
    -- rules still judge what the workload does today
    select
        w.workload, w.volume, w.volume as base_volume,
        w.tpd_input, w.tpd_cache_read, w.tpd_cache_creation, w.tpd_output, w.tpd_reasoning,
        w.btpd_input, w.btpd_cache_read, w.btpd_cache_creation, w.btpd_output, w.btpd_reasoning,
        w.cached_share, w.peak_to_mean,
        true as same_as_current,
        false as exact_current_config,
        concat_ws('|', w.tier_now, w.provider_now, w.model_now) as option_id,
        w.tier_now as tier, w.provider_now as provider, w.model_now as model,
        cast(0 as decimal(9, 4)) as quality_loss_max,
        case when w.tier_now = 'self_hosted' then format('no self-hosting assumption for {}', w.model_now)
             else format('no price for {} on {}', w.model_now, w.provider_now) end as unavailable_reason,
        m.capability_class, m.publisher, m.license, m.commercial_use,
        coalesce(m.weights_available, false) as weights_available,
        coalesce(m.eu_restricted, false) as eu_restricted,
        m.mau_limit,
        a.*
    from w
    cross join a
    left join (
        select model, any_value(capability_class) as capability_class, any_value(publisher) as publisher,
               any_value(license) as license, any_value(commercial_use) as commercial_use,
               bool_or(weights_available) as weights_available, bool_or(eu_restricted) as eu_restricted,
               any_value(mau_limit) as mau_limit
        from opts group by model
    ) as m on m.model = w.model_now
    where not exists (
        select 1 from opts as o
        where o.tier = w.tier_now and o.model = w.model_now and (o.tier = 'self_hosted' or o.provider = w.provider_now))
),
all_pairs as (
    select * from pairs
    union all by name
    select * from missing
),
costed as (
    select * from tw_option_costs('all_pairs')
),
current_row as (
    -- today's option: the price row of today's provider and model; for self-hosting the deployment's own
    -- configuration, else the cheapest configuration of today's model
    select *
    from costed
    where same_as_current
    qualify row_number() over (
        partition by workload order by exact_current_config desc, monthly_cost_usd asc nulls last, option_id) = 1
),
current_cost as (
    select
        w.workload,
        c.option_id as current_option_id,
        c.monthly_cost_usd as current_projected_usd,
        c.api_monthly_cost_usd as current_api_usd,
        c.ops_monthly_cost_usd + c.setup_monthly_cost_usd as current_fixed_usd,
        c.gpu_monthly_each_usd as current_gpu_each_usd,
        c.gpus_per_replica as current_gpus_per_replica,
        c.gpu_hour_capacity as current_gpu_hour_capacity,
        cast(case when w.tier_now = 'self_hosted' then coalesce(w.observed_monthly_cost_usd, c.run_rate_monthly_cost_usd)
                  else coalesce(c.monthly_cost_usd, w.observed_monthly_cost_usd) end as decimal(38, 12)) as current_monthly_cost_usd
    from w
    left join current_row as c on c.workload = w.workload
),
evals as (
    select * from query_table(rel_evals)
),
latency as (
    select * from query_table(rel_latency)
),
rows as (
    select
        c.*,
        (c.option_id = cc.current_option_id) or (c.same_as_current and cc.current_option_id is null) as is_current,
        cc.current_monthly_cost_usd,
        cc.current_api_usd, cc.current_fixed_usd, cc.current_gpu_each_usd, cc.current_gpus_per_replica,
        cc.current_gpu_hour_capacity,
        w.tier_now, w.provider_now, w.model_now, w.data_class_used, w.sensitive, w.ops_fte_used, w.customization_used,
        w.eu_used, w.domicile, w.mau_used, w.latency_slo_ms, w.class_used,
        w.current_gpu_type as w_gpu_type, w.current_engine as w_engine, w.current_quantization as w_quantization,
        w.current_gpus as w_gpus,
        coalesce(e.eval_n, es.eval_n) as eval_n,
        coalesce(e.eval_mean, es.eval_mean) as eval_mean,
        coalesce(e.baseline_n, es.baseline_n) as baseline_n,
        coalesce(e.baseline_mean, es.baseline_mean) as baseline_mean,
        coalesce(e.eval_gap, es.eval_gap) as eval_gap,
        l.latency_n, l.p50_ms, l.p90_ms, l.p99_ms
    from costed as c
    join w on w.workload = c.workload
    join current_cost as cc on cc.workload = c.workload
    left join evals as e on e.workload = c.workload and e.model = c.model
    left join evals as es on es.workload = c.workload and es.model = '*'
    left join latency as l
      on l.workload = c.workload and l.model = c.model and l.tier = c.tier
     and (c.tier = 'self_hosted' or l.provider = c.provider)
    -- the other configurations of today's self-hosted model are not moves; today's row stays
    where not c.same_as_current or c.option_id = cc.current_option_id or cc.current_option_id is null
),
judged as (
    select
        *,
        case
            when is_current then 'current'
            when model = model_now then 'same_model'
            when eval_gap is null then 'no_eval'
            when eval_n is not null and (eval_n < min_eval_samples or coalesce(baseline_n, 0) < min_eval_samples) then 'no_eval'
            when eval_gap - quality_loss_max < -quality_gate then 'failed'
            else 'passed'
        end as quality_status_raw,
        eval_gap - quality_loss_max as quality_gap
    from rows
),
gated as (
    select
        * exclude (quality_status_raw),
        -- the same weights quantized harder can still lose quality: the quantization's worst case counts
        case when quality_status_raw = 'same_model' and quality_loss_max > quality_gate then 'failed'
             else quality_status_raw end as quality_status
    from judged
),
blocked as (
    select
        *,
        list_filter([
            case when sensitive and tier <> 'self_hosted' then
                {'rule': 'privacy', 'detail': format('data classed {} cannot leave your infrastructure: {} sends it to a provider',
                                                      data_class_used, tier)} end,
            case when customization_used and tier <> 'self_hosted' then
                {'rule': 'customization', 'detail': format('fine-tuning or custom decoding needs self-hosting: {} on {} cannot be customized',
                                                            model, tier)} end,
            case when tier = 'self_hosted' and ops_fte_used < min_ops_fte then
                {'rule': 'ops', 'detail': format('the owning team has {} FTE of ops capacity, under the {} FTE self-hosting needs',
                                                  cast(ops_fte_used as double), cast(min_ops_fte as double))} end,
            case when tier = 'self_hosted' and not weights_available then
                {'rule': 'license', 'detail': format('{} is proprietary ({}): API only, its weights cannot run on your infrastructure',
                                                      model, coalesce(license, 'no license on file'))} end,
            case when eu_restricted and eu_used then
                {'rule': 'license', 'detail': format('{} ({}) may not be used by EU-domiciled organizations (domicile {})',
                                                      model, license, coalesce(domicile, 'EU'))} end,
            case when mau_limit is not null and mau_used > mau_limit then
                {'rule': 'license', 'detail': format('{} ({}) needs the licensor''s approval past {} monthly active users ({} here)',
                                                      model, license, tw_fmt_tokens(mau_limit), tw_fmt_tokens(mau_used))} end,
            case when quality_status = 'failed' and model <> model_now then
                {'rule': 'quality', 'detail': format('shadow eval of {} is {} against {}{}{}: past the {} quality gate',
                                                      model, tw_fmt_signed_pct(eval_gap), model_now,
                                                      case when eval_mean is not null then format(' ({:.3f} vs {:.3f})', eval_mean, baseline_mean) else '' end,
                                                      case when quality_loss_max > 0 then format(', and {} can lose up to {} more',
                                                          quantization, tw_fmt_pct(quality_loss_max)) else '' end,
                                                      tw_fmt_pct(quality_gate))} end,
            case when quality_status = 'failed' and model = model_now then
                {'rule': 'quality', 'detail': format('{} can lose up to {} quality, past the {} gate: evaluate it first',
                                                      quantization, tw_fmt_pct(quality_loss_max), tw_fmt_pct(quality_gate))} end,
            case when latency_slo_ms is not null and p99_ms is not null and p99_ms > latency_slo_ms and not is_current then
                {'rule': 'latency', 'detail': format('p99 latency of {} on {} is {:,.0f} ms in shadow traffic, over the {:,.0f} ms SLO',
                                                      model, provider, p99_ms, cast(latency_slo_ms as double))} end
        ], lambda x: x is not null) as blockers
    from gated
)
select
    workload,
    option_id,
    is_current,
    tier,
    provider,
    model,
    capability_class,
    -- today's self-hosted row shows the deployment as it runs (its cost is what it was charged)
    case when is_current and tier = 'self_hosted' and w_gpu_type is not null then w_gpu_type else gpu_type end as gpu_type,
    case when is_current and tier = 'self_hosted' and w_gpus is not null then w_gpus else gpus end as gpus,
    case when is_current and tier = 'self_hosted' and w_engine is not null then w_engine else engine end as engine,
    case when is_current and tier = 'self_hosted' and w_quantization is not null then w_quantization else quantization end as quantization,
    volume as tokens_per_day,
    unavailable_reason,
    (unavailable_reason is null and monthly_cost_usd is not null) as available,
    (unavailable_reason is null and monthly_cost_usd is not null and len(blockers) = 0) as allowed,
    blockers,
    monthly_cost_usd,
    api_monthly_cost_usd,
    gpu_monthly_cost_usd,
    ops_monthly_cost_usd,
    setup_cost_usd,
    setup_monthly_cost_usd,
    run_rate_monthly_cost_usd,
    current_monthly_cost_usd,
    cast(current_monthly_cost_usd - monthly_cost_usd as decimal(38, 12)) as monthly_savings_usd,
    cast(current_monthly_cost_usd - monthly_cost_usd as double) / nullif(cast(current_monthly_cost_usd as double), 0) as savings_share,
    case
        when is_current then null
        when tier_now <> 'self_hosted' and tier = 'self_hosted' then
            tw_breakeven_api_vs_selfhost(current_api_usd, volume, ops_monthly_cost_usd + setup_monthly_cost_usd,
                                         gpu_monthly_each_usd, min_gpus, gpus_per_replica, gpu_hour_capacity, peak_to_mean)
        when tier_now = 'self_hosted' and tier <> 'self_hosted' then
            tw_breakeven_api_vs_selfhost(api_monthly_cost_usd, volume, current_fixed_usd, current_gpu_each_usd, min_gpus,
                                         current_gpus_per_replica, current_gpu_hour_capacity, peak_to_mean)
    end as breakeven_tokens_per_day,
    case
        when is_current or monthly_cost_usd is null or current_monthly_cost_usd is null then null
        when tier = 'self_hosted' and current_monthly_cost_usd > run_rate_monthly_cost_usd then
            round(cast(setup_cost_usd as double) / cast(current_monthly_cost_usd - run_rate_monthly_cost_usd as double), 1)
        when tier <> 'self_hosted' and current_monthly_cost_usd > monthly_cost_usd then 0.0
    end as payback_months,
    quality_status,
    eval_n,
    eval_mean,
    baseline_n,
    baseline_mean,
    eval_gap,
    quality_loss_max,
    latency_n,
    p50_ms,
    p90_ms,
    p99_ms,
    tier_now,
    model_now,
    data_class_used as data_class,
    sensitive as is_sensitive_data,
    ops_fte_used as ops_fte,
    customization_used as customization,
    latency_slo_ms,
    class_used as workload_class,
    peak_hour_tokens,
    gpu_hour_capacity,
    gpus_per_replica,
    tokens_per_second,
    prefix_speedup,
    cached_share,
    peak_to_mean,
    license,
    commercial_use,
    weights_available,
    eu_restricted,
    list_filter([
        case when tier <> 'self_hosted' then {'name': 'price', 'value': format('{} {} per token: input {}, output {}', provider, model,
            cast(input_price as varchar), cast(output_price as varchar)), 'valid_from': price_valid_from, 'source': coalesce(price_source, 'seed')} end,
        case when tier = 'self_hosted' and tokens_per_second is not null then {'name': 'throughput', 'value': format('{} tokens/s per GPU, {} GPU(s) per replica, prefix speed-up {}',
            cast(tokens_per_second as double), gpus_per_replica, cast(prefix_speedup as double)), 'valid_from': throughput_valid_from, 'source': throughput_source} end,
        case when tier = 'self_hosted' and gpu_hourly_price is not null then {'name': 'gpu_price', 'value': format('{} at ${}/h', gpu_type, cast(gpu_hourly_price as double)),
            'valid_from': gpu_price_valid_from, 'source': gpu_price_source} end
    ], lambda x: x is not null)
    || list_transform(
        list_filter(sources, lambda s: s.name in ('days_per_month', 'hours_per_month', 'target_utilization', 'amortization_months',
                                                  'ops_fte', 'loaded_salary_usd_per_year', 'setup_fte', 'setup_months',
                                                  'min_gpus_per_deployment', 'quality_gate', 'min_eval_samples')
                                         and (tier = 'self_hosted' or s.name in ('days_per_month', 'quality_gate', 'min_eval_samples'))),
        lambda s: {'name': s.name, 'value': s.value || ' ' || coalesce(s.unit, ''), 'valid_from': s.valid_from, 'source': s.source})
    as assumptions
from blocked;

-- ---- break-even curves ----------------------------------------------------------------------------------
-- Per workload, the monthly cost of the cheapest option of each tier (allowed first), recomputed at 21 volumes
-- from 1/100 to 100x today's (a log range; today's volume is point 10) with the workload's own token mix and
-- traffic shape. rel_projection: tw_tier_projection. Other relations as there.
create or replace macro tw_breakeven_curves(rel_projection, rel_workloads, rel_options, rel_assumptions) as table
with best as (
    select workload, tier, option_id, allowed
    from query_table(rel_projection)
    where available and (not is_current or tier = tier_now)
    qualify row_number() over (
        partition by workload, tier order by allowed desc, monthly_cost_usd, option_id) = 1
),
grid as (
    select
        w.workload,
        b.tier, b.option_id, b.allowed,
        i as point,
        greatest(cast(round(w.volume * pow(10, (i - 10) / 5.0)) as bigint), 1) as volume,
        w.volume as base_volume,
        w.tpd_input, w.tpd_cache_read, w.tpd_cache_creation, w.tpd_output, w.tpd_reasoning,
        w.btpd_input, w.btpd_cache_read, w.btpd_cache_creation, w.btpd_output, w.btpd_reasoning,
        w.cached_share, w.peak_to_mean,
        o.* exclude (option_id, tier),
        a.*
    from query_table(rel_workloads) as w
    join best as b on b.workload = w.workload
    join query_table(rel_options) as o on o.option_id = b.option_id
    cross join query_table(rel_assumptions) as a
    cross join range(0, 21) as r(i)
    where w.volume > 0
)
select
    workload, tier, provider, model, gpu_type, engine, quantization, allowed,
    point, volume as tokens_per_day, (point = 10) as is_current_volume,
    gpus, monthly_cost_usd
from tw_option_costs('grid');

-- ---- volume forecast ------------------------------------------------------------------------------------
-- Per workload, the weekly trend (a least-squares fit of ln(tokens/day) on the week) and the date its volume
-- reaches the next threshold: the break-even of an allowed option, or an edge of the article's volume bands.
-- rel_weekly: workload, week_index (0 = oldest, consecutive), week_end (date), tokens_per_day.
create or replace macro tw_volume_forecast(rel_weekly, rel_projection, rel_assumptions) as table
with a as (
    select * from query_table(rel_assumptions)
),
weekly as (
    select * from query_table(rel_weekly) where tokens_per_day > 0
),
fit as (
    -- every projected workload gets a row; one without full weeks says so
    select
        p.workload,
        cast(count(wk.week_index) as integer) as weeks,
        regr_slope(ln(wk.tokens_per_day), wk.week_index) as slope,
        regr_r2(ln(wk.tokens_per_day), wk.week_index) as r2,
        arg_max(wk.tokens_per_day, wk.week_index) as last_tokens_per_day,
        max(wk.week_end) as last_week_end
    from (select distinct workload from query_table(rel_projection)) as p
    left join weekly as wk on wk.workload = p.workload
    group by p.workload
),
thresholds as (
    -- a break-even only matters in the direction that makes the option the cheaper one: self-hosting gets
    -- cheaper than a per-token tier above it, a per-token tier cheaper than self-hosting below it
    select workload, cast(breakeven_tokens_per_day as double) as threshold,
           case when tier = 'self_hosted' then 'up' else 'down' end as direction,
           format('{} break-even of {} ({})', tier, model,
                  case when tier = 'self_hosted' then format('{} x {} {} {}', gpus, gpu_type, engine, quantization)
                       else format('per token on {}', provider) end) as label
    from query_table(rel_projection)
    where breakeven_tokens_per_day is not null and allowed and not is_current
    union all
    select f.workload, cast(a.closed_max_tokens_per_day as double), 'both',
           format('{} tokens/day volume band edge (closed API below)', tw_fmt_tokens(a.closed_max_tokens_per_day))
    from fit as f cross join a
    union all
    select f.workload, cast(a.selfhost_min_tokens_per_day as double), 'both',
           format('{} tokens/day volume band edge (self-hosted above)', tw_fmt_tokens(a.selfhost_min_tokens_per_day))
    from fit as f cross join a
),
trend as (
    select
        f.*,
        exp(f.slope) - 1 as weekly_growth,
        case
            when f.weeks < a.forecast_min_weeks then 'insufficient_history'
            when abs(exp(f.slope) - 1) < a.forecast_flat_growth then 'flat'
            when f.slope > 0 then 'growing'
            else 'declining'
        end as trend,
        a.forecast_min_weeks, a.forecast_horizon_days
    from fit as f cross join a
),
next_threshold as (
    select
        t.workload,
        arg_min(h.threshold, case when t.trend = 'growing' then h.threshold else -h.threshold end) as threshold,
        arg_min(h.label, case when t.trend = 'growing' then h.threshold else -h.threshold end) as label
    from trend as t
    join thresholds as h
      on h.workload = t.workload
     and ((t.trend = 'growing' and h.direction <> 'down' and h.threshold > t.last_tokens_per_day)
          or (t.trend = 'declining' and h.direction <> 'up' and h.threshold < t.last_tokens_per_day))
    group by t.workload
),
dated as (
    select
        t.*,
        n.threshold, n.label,
        case when n.threshold is not null then
            cast(ceil(7 * ln(n.threshold / t.last_tokens_per_day) / t.slope) as integer) end as days_to_crossing
    from trend as t
    left join next_threshold as n on n.workload = t.workload
)
select
    workload,
    weeks,
    last_week_end,
    last_tokens_per_day,
    weekly_growth,
    r2,
    trend,
    cast(threshold as bigint) as next_threshold_tokens_per_day,
    case when trend in ('growing', 'declining') then label end as crossing,
    case when trend in ('growing', 'declining') and days_to_crossing <= forecast_horizon_days
         then cast(last_week_end + days_to_crossing as date) end as crossing_date,
    case when trend in ('growing', 'declining') then days_to_crossing end as days_to_crossing,
    case
        when trend = 'insufficient_history' then 'none'
        when trend = 'flat' then case when r2 >= 0.5 or weeks >= 4 then 'medium' else 'low' end
        when r2 >= 0.8 and weeks >= 4 then 'high'
        when r2 >= 0.5 then 'medium'
        else 'low'
    end as confidence,
    case
        when trend = 'insufficient_history' then format('only {} full week(s) of history: at least {} are needed to project', weeks, forecast_min_weeks)
        when trend = 'flat' then format('flat ({} a week): no threshold will be crossed at this trend', tw_fmt_pct(weekly_growth))
        when threshold is null then format('{} {} a week, and no threshold lies ahead', trend, tw_fmt_pct(weekly_growth))
        when days_to_crossing > forecast_horizon_days then format('{} {} a week: {} is more than {} days away',
                                                                  trend, tw_fmt_pct(weekly_growth), label, forecast_horizon_days)
        else format('{} {} a week (R2 {:.2f} over {} weeks): reaches {} in {} days', trend, tw_fmt_pct(weekly_growth),
                    r2, weeks, label, days_to_crossing)
    end as note
from dated;

-- ---- the tier recommendation ----------------------------------------------------------------------------
-- Per workload: the rules of the article's decision framework applied to the projection (docs/decisions.md).
--   1. Blockers rule options out: privacy, customization, ops, license, quality gate, latency SLO. They apply
--      to today's option too (except quality and latency): a workload whose current option is blocked must move.
--   2. Among allowed options, the cheapest whose shadow eval passed is recommended ("switch") when it saves at
--      least min_savings_share and min_savings_usd (or when today's option is blocked); else the cheapest
--      allowed option without eval data ("evaluate_first", playbook step 2); else "stay". Nothing allowed and
--      today's option blocked: "blocked".
--   3. The volume band is always reported; where it and the computed costs disagree, both are said.
create or replace macro tw_tier_recommendation(rel_projection, rel_forecast, rel_assumptions) as table
with a as (
    select * from query_table(rel_assumptions)
),
p as (
    select * from query_table(rel_projection)
),
cur as (
    select * from p where is_current
),
workloads as (
    select distinct workload, tier_now, model_now, tokens_per_day from p
),
cands as (
    select p.*
    from p
    where not is_current and allowed
),
best_passed as (
    select * from cands
    where quality_status in ('passed', 'same_model')
    qualify row_number() over (partition by workload order by monthly_cost_usd, option_id) = 1
),
best_any as (
    select * from cands
    qualify row_number() over (partition by workload order by monthly_cost_usd, option_id) = 1
),
best_tier as (
    -- cheapest per tier: allowed options first, else the cheapest available one (marked not allowed)
    select *
    from p
    where available and (not is_current or tier = tier_now)
    qualify row_number() over (partition by workload, tier order by allowed desc, monthly_cost_usd, option_id) = 1
),
tiers as (
    select
        workload,
        map_from_entries(list({'key': tier, 'value': {
            'provider': provider, 'model': model, 'monthly_cost_usd': monthly_cost_usd, 'allowed': allowed,
            'gpus': gpus, 'gpu_type': gpu_type, 'engine': engine, 'quantization': quantization,
            'is_current': is_current}} order by tier)) as costs_by_tier,
        arg_min(tier, monthly_cost_usd) filter (where allowed or is_current) as cheapest_tier,
        min(monthly_cost_usd) filter (where allowed or is_current) as cheapest_cost
    from best_tier
    group by workload
),
decided as (
    select
        w.workload, w.tier_now, w.model_now, w.tokens_per_day,
        c.option_id as current_option_id,
        c.monthly_cost_usd as current_projected_usd,
        c.current_monthly_cost_usd,
        coalesce(len(c.blockers) = 0, true) as current_allowed,
        coalesce(c.blockers, []) as current_blockers,
        c.data_class as data_class_used, c.is_sensitive_data as sensitive, c.ops_fte as ops_fte_used,
        c.customization as customization_used,
        bp.option_id as passed_option_id, bp.monthly_cost_usd as passed_cost, bp.monthly_savings_usd as passed_savings,
        bp.savings_share as passed_share,
        ba.option_id as any_option_id, ba.monthly_cost_usd as any_cost, ba.monthly_savings_usd as any_savings,
        ba.savings_share as any_share,
        a.min_savings_share, a.min_savings_usd, a.closed_max_tokens_per_day, a.selfhost_min_tokens_per_day, a.min_ops_fte,
        a.quality_gate
    from workloads as w
    left join (select * from p where is_current) as c on c.workload = w.workload
    left join best_passed as bp on bp.workload = w.workload
    left join best_any as ba on ba.workload = w.workload
    cross join a
),
chosen as (
    select
        d.*,
        case
            when not current_allowed and passed_option_id is not null then 'switch'
            when not current_allowed and any_option_id is not null then 'evaluate_first'
            when not current_allowed then 'blocked'
            when passed_option_id is not null and passed_savings >= min_savings_usd and passed_share >= min_savings_share then 'switch'
            when any_option_id is not null and any_savings >= min_savings_usd and any_share >= min_savings_share then 'evaluate_first'
            else 'stay'
        end as action
    from decided as d
),
picked as (
    select
        ch.*,
        case ch.action when 'switch' then ch.passed_option_id when 'evaluate_first' then ch.any_option_id
                       when 'stay' then ch.current_option_id end as pick_id
    from chosen as ch
),
full_pick as (
    select pk.*, r.tier as rec_tier, r.provider as rec_provider, r.model as rec_model, r.gpus as rec_gpus,
           r.gpu_type as rec_gpu_type, r.engine as rec_engine, r.quantization as rec_quantization,
           r.monthly_cost_usd as rec_cost, r.eval_mean as rec_eval, r.baseline_mean as rec_baseline, r.eval_n as rec_eval_n,
           r.quality_status as rec_quality, r.p99_ms as rec_p99, r.latency_slo_ms, r.license as rec_license,
           r.commercial_use as rec_commercial_use, r.breakeven_tokens_per_day as rec_breakeven, r.payback_months as rec_payback,
           r.quality_loss_max as rec_quality_loss, r.eval_gap as rec_gap,
           t.costs_by_tier, t.cheapest_tier, t.cheapest_cost,
           ba.model as any_model, ba.provider as any_provider, ba.tier as any_tier,
           case when ba.tier = 'self_hosted' then format('{} x {} ({} {})', ba.gpus, ba.gpu_type, ba.engine, ba.quantization)
                else ba.provider end as any_where
    from picked as pk
    left join p as r on r.workload = pk.workload and r.option_id = pk.pick_id
    left join tiers as t on t.workload = pk.workload
    left join best_any as ba on ba.workload = pk.workload
),
band as (
    select
        *,
        case
            when tokens_per_day < closed_max_tokens_per_day then 'closed_api'
            when tokens_per_day <= selfhost_min_tokens_per_day or ops_fte_used < min_ops_fte then 'hosted_open_api'
            else 'self_hosted'
        end as band_tier,
        case
            when tokens_per_day < closed_max_tokens_per_day then format('under {}', tw_fmt_tokens(closed_max_tokens_per_day))
            when tokens_per_day <= selfhost_min_tokens_per_day then format('{}-{}', tw_fmt_tokens(closed_max_tokens_per_day), tw_fmt_tokens(selfhost_min_tokens_per_day))
            else format('over {}', tw_fmt_tokens(selfhost_min_tokens_per_day))
        end as band_label
    from full_pick
),
blocker_rows as (
    -- what stopped options as cheap as the recommendation or cheaper: each rule once, with its first detail
    select p.workload, b.rule, min(b.detail) as detail, min(p.monthly_cost_usd) as cost
    from p
    join band as bd on bd.workload = p.workload
    cross join unnest(p.blockers) as u(b)
    where not p.is_current and p.available
      and (bd.rec_cost is null or p.monthly_cost_usd <= bd.rec_cost)
    group by p.workload, b.rule
),
blockers as (
    select workload, list({'rule': rule, 'detail': detail} order by rule) as blockers
    from blocker_rows
    group by workload
),
license_notes as (
    -- "proprietary: API only" matters only where self-hosting is required
    select workload, min(b.detail) as detail
    from p cross join unnest(p.blockers) as u(b)
    where b.rule = 'license' and (p.weights_available or p.is_sensitive_data or p.customization)
    group by workload
),
cheaper_self_blocked as (
    select distinct p.workload
    from p join band as bd on bd.workload = p.workload
    where p.tier = 'self_hosted' and p.available and not p.allowed and not p.is_current
      and (bd.rec_cost is null or p.monthly_cost_usd < bd.rec_cost)
),
quality_fails as (
    -- a failed eval matters where it stops a saving: options cheaper than today's
    select workload, min(b.detail) as detail
    from p cross join unnest(p.blockers) as u(b)
    where b.rule = 'quality' and (p.current_monthly_cost_usd is null or p.monthly_cost_usd < p.current_monthly_cost_usd)
    group by workload
),
reasons as (
    select
        bd.workload,
        list_filter([
            case when bd.sensitive then {'rule': 'privacy', 'detail': format(
                'data classed {} cannot leave your infrastructure: only self-hosted options qualify{}',
                bd.data_class_used, case when bd.tier_now <> 'self_hosted' then format(' ({} today breaks this rule)', bd.tier_now) else '' end)} end,
            {'rule': 'volume', 'detail': format('{} tokens/day is in the {} band, which favors {}{}',
                tw_fmt_tokens(bd.tokens_per_day), bd.band_label, bd.band_tier,
                case
                    when bd.sensitive or bd.customization_used then ''
                    when bd.cheapest_tier is not null and bd.cheapest_tier <> bd.band_tier and bd.costs_by_tier[bd.band_tier] is null then format(
                        '; the computed costs favor {} ({} a month), and no {} option serves its class: both are shown',
                        bd.cheapest_tier, tw_fmt_usd(bd.cheapest_cost), bd.band_tier)
                    when bd.cheapest_tier is not null and bd.cheapest_tier <> bd.band_tier then format(
                        '; the computed costs favor {} ({} a month against {} for the best {} option): both are shown',
                        bd.cheapest_tier, tw_fmt_usd(bd.cheapest_cost),
                        tw_fmt_usd(bd.costs_by_tier[bd.band_tier].monthly_cost_usd), bd.band_tier)
                    else ''
                end)},
            case when bd.ops_fte_used < bd.min_ops_fte
                      and (bd.tier_now = 'self_hosted' or bd.band_tier = 'self_hosted' or cs.workload is not null
                           or (bd.tokens_per_day > bd.selfhost_min_tokens_per_day)) then {'rule': 'ops', 'detail': format(
                'the owning team has {} FTE of ops capacity, under the {} FTE self-hosting needs: no self-hosted option',
                cast(bd.ops_fte_used as double), cast(bd.min_ops_fte as double))}
                 when bd.rec_tier = 'self_hosted' then {'rule': 'ops', 'detail': format(
                'the owning team has {} FTE of ops capacity (at least {} needed to self-host)',
                cast(bd.ops_fte_used as double), cast(bd.min_ops_fte as double))} end,
            case when bd.customization_used then {'rule': 'customization', 'detail':
                'fine-tuning or custom decoding is needed: only self-hosting allows it'} end,
            case when ln.detail is not null then {'rule': 'license', 'detail': ln.detail} end,
            case when bd.rec_commercial_use = 'commercial_license' then {'rule': 'license', 'detail': format(
                '{} needs a commercial license ({})', bd.rec_model, bd.rec_license)} end,
            case
                when bd.action = 'switch' and bd.rec_quality = 'passed' then {'rule': 'quality', 'detail': format(
                    '{} scored {} against {} in shadow traffic{}, within the {} gate',
                    bd.rec_model, tw_fmt_signed_pct(bd.rec_gap), bd.model_now,
                    case when bd.rec_eval is not null then format(' ({:.3f} vs {:.3f} over {} scored requests)',
                        bd.rec_eval, bd.rec_baseline, coalesce(bd.rec_eval_n, 0)) else '' end,
                    tw_fmt_pct(bd.quality_gate))}
                when bd.action = 'switch' and bd.rec_quality = 'same_model' then {'rule': 'quality', 'detail': format(
                    'same model weights as today ({}), so no new evaluation is needed', bd.rec_model)}
                when bd.action = 'evaluate_first' then {'rule': 'quality', 'detail': format(
                    'no shadow eval of {} against {} yet: evaluate first (migration playbook step 2: shadow 5-10% of traffic for 2 weeks, within 5% of baseline){}',
                    bd.rec_model, bd.model_now,
                    case when qf.detail is not null then '; ' || qf.detail else '' end)}
                when qf.detail is not null then {'rule': 'quality', 'detail': qf.detail}
            end,
            {'rule': 'cost', 'detail': case
                when bd.action = 'blocked' then format('no option passes every rule; {}',
                    case when bd.current_monthly_cost_usd is null then format('today''s cost of {} is unknown (no price)', bd.model_now)
                         else format('today {} costs {} a month', bd.model_now, tw_fmt_usd(bd.current_monthly_cost_usd)) end)
                when bd.action in ('switch', 'evaluate_first') and bd.current_monthly_cost_usd is null then format(
                    '{} on {} costs {} a month; today''s cost is unknown (no price for {})',
                    bd.rec_model, bd.rec_provider, tw_fmt_usd(bd.rec_cost), bd.model_now)
                when bd.action in ('switch', 'evaluate_first') and bd.rec_cost <= bd.current_monthly_cost_usd then format(
                    '{} a month today on {}; {} on {} costs {}: saves {} ({}){}',
                    tw_fmt_usd(bd.current_monthly_cost_usd), bd.model_now, bd.rec_model,
                    case when bd.rec_tier = 'self_hosted' then format('{} x {} ({} {})', bd.rec_gpus, bd.rec_gpu_type, bd.rec_engine, bd.rec_quantization) else bd.rec_provider end,
                    tw_fmt_usd(bd.rec_cost), tw_fmt_usd(bd.current_monthly_cost_usd - bd.rec_cost),
                    tw_fmt_pct((bd.current_monthly_cost_usd - bd.rec_cost) / bd.current_monthly_cost_usd),
                    case when bd.rec_payback is not null and bd.rec_payback > 0 then format(', setup pays back in {:.1f} months', bd.rec_payback) else '' end)
                when bd.action in ('switch', 'evaluate_first') then format(
                    '{} a month today on {}, which breaks a rule; {} on {} costs {} ({} more)',
                    tw_fmt_usd(bd.current_monthly_cost_usd), bd.model_now, bd.rec_model, bd.rec_provider,
                    tw_fmt_usd(bd.rec_cost), tw_fmt_usd(bd.rec_cost - bd.current_monthly_cost_usd))
                when bd.any_option_id is null then format('{} a month today on {}; no other option passes every rule',
                    tw_fmt_usd(bd.current_monthly_cost_usd), bd.model_now)
                when bd.any_savings < 0 then format('{} a month today on {}; the cheapest allowed alternative, {} on {}, costs {} more',
                    tw_fmt_usd(bd.current_monthly_cost_usd), bd.model_now, bd.any_model, bd.any_where, tw_fmt_usd(-bd.any_savings))
                else format('{} a month today on {}; the cheapest allowed alternative, {} on {}, saves {}: under the {} and {} a month a switch must save',
                    tw_fmt_usd(bd.current_monthly_cost_usd), bd.model_now, bd.any_model, bd.any_where,
                    tw_fmt_usd(bd.any_savings), tw_fmt_pct(bd.min_savings_share), tw_fmt_usd(bd.min_savings_usd))
            end},
            case when bd.latency_slo_ms is not null and bd.action in ('switch', 'evaluate_first') then {'rule': 'latency', 'detail':
                case when bd.rec_p99 is not null then format('p99 of {} measured at {:,.0f} ms, within the {:,.0f} ms SLO',
                        bd.rec_model, bd.rec_p99, cast(bd.latency_slo_ms as double))
                     else format('no latency measurement of {} on {}: validate p50/p90/p99 against the {:,.0f} ms SLO first (migration playbook step 3)',
                        bd.rec_model, bd.rec_tier, cast(bd.latency_slo_ms as double)) end} end
        ], lambda x: x is not null) as reasons
    from band as bd
    left join license_notes as ln on ln.workload = bd.workload
    left join quality_fails as qf on qf.workload = bd.workload
    left join cheaper_self_blocked as cs on cs.workload = bd.workload
)
select
    bd.workload,
    bd.tier_now,
    bd.model_now,
    bd.tokens_per_day,
    bd.action,
    bd.rec_tier as recommended_tier,
    bd.rec_provider as recommended_provider,
    bd.rec_model as recommended_model,
    bd.rec_gpus as recommended_gpus,
    bd.rec_gpu_type as recommended_gpu_type,
    bd.rec_engine as recommended_engine,
    bd.rec_quantization as recommended_quantization,
    bd.current_monthly_cost_usd,
    bd.rec_cost as recommended_monthly_cost_usd,
    cast(case when bd.action = 'stay' then 0 else bd.current_monthly_cost_usd - bd.rec_cost end as decimal(38, 12)) as monthly_savings_usd,
    bd.band_tier as volume_band_tier,
    bd.cheapest_tier,
    r.reasons,
    coalesce(case when bd.action = 'blocked' then bd.current_blockers end, b.blockers, []) as blockers,
    bd.costs_by_tier,
    f.crossing as forecast_crossing,
    f.crossing_date as forecast_date,
    f.confidence as forecast_confidence,
    f.note as forecast_note
from band as bd
join reasons as r on r.workload = bd.workload
left join blockers as b on b.workload = bd.workload
left join query_table(rel_forecast) as f on f.workload = bd.workload;
{% endmacro %}
