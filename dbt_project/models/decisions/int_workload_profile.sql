-- One row per workload: its traffic over the trailing window (28 days by default) read from the daily marts,
-- what it runs today, what that costs, and its config (tierwise.yaml; NULL = the stated default).
--   volume          tokens/day, the sum of the per-type averages tpd_* (interactive) and btpd_* (batch),
--                   each averaged over the days since the workload's first day in the window
--   peak_to_mean    the peak_quantile hour (nearest rank, zero hours included) over the average hour
--   today's model   the (tier, provider, model, deployment) that served most tokens in the last 7 days

{%- set token_types = tw_token_types() %}

with bounds as (
    select
        cast(as_of as date) - 1 as last_day,
        cast(as_of as date) - window_days as first_day,
        days_per_month,
        peak_quantile
    from {{ ref('int_projection_assumptions') }}
),

daily as (
    select d.*
    from {{ ref('workload_daily') }} as d
    cross join bounds as b
    where not d.is_shadow and d.day between b.first_day and b.last_day
),

span as (
    select workload, min(day) as first_seen
    from daily
    group by workload
),

today as (
    select workload, tier, provider, model, deployment
    from daily
    cross join bounds as b
    group by workload, tier, provider, model, deployment
    qualify row_number() over (
        partition by workload
        order by sum(tokens_total) filter (where day > b.last_day - 7) desc nulls last, sum(tokens_total) desc,
                 tier, provider, model, deployment) = 1
),

totals as (
    select
        d.workload,
        cast(any_value(b.last_day) - any_value(s.first_seen) + 1 as integer) as days,
        {%- for t in token_types %}
        sum(d.tokens_{{ t }}) as sum_{{ t }},
        sum(d.batch_tokens_{{ t }}) as sum_batch_{{ t }},
        {%- endfor %}
        sum(d.requests) as requests,
        sum(d.error_requests) as error_requests,
        sum(d.batch_requests) as batch_requests,
        sum(d.tokens_total) filter (where d.day > b.last_day - 7) as last_7_days,
        sum(d.tokens_total) filter (where d.day > b.last_day - 14 and d.day <= b.last_day - 7) as previous_7_days
    from daily as d
    join span as s on s.workload = d.workload
    cross join bounds as b
    group by d.workload
),

per_day as (
    select
        workload,
        days,
        {%- for t in token_types %}
        cast((sum_{{ t }} * 2 + days) // (2 * days) as bigint) as tpd_{{ t }},
        cast((sum_batch_{{ t }} * 2 + days) // (2 * days) as bigint) as btpd_{{ t }},
        {%- endfor %}
        cast(requests as double) / days as requests_per_day,
        cast(error_requests as double) / nullif(requests, 0) as error_rate,
        cast(batch_requests as double) / nullif(requests, 0) as batch_share,
        cast(sum_cache_read + sum_batch_cache_read as double)
            / nullif(sum_input + sum_cache_read + sum_cache_creation + sum_batch_input + sum_batch_cache_read + sum_batch_cache_creation, 0)
            as cached_share,
        cast(last_7_days as double) / nullif(previous_7_days, 0) - 1 as wow_growth
    from totals
),

hour_grid as (
    select
        s.workload,
        unnest(generate_series(cast(s.first_seen as timestamp), cast(b.last_day as timestamp) + interval 23 hour, interval 1 hour))
            as hour_start
    from span as s
    cross join bounds as b
),

hours as (
    select g.workload, g.hour_start, coalesce(h.tokens_total, 0) as tokens
    from hour_grid as g
    left join {{ ref('workload_hourly') }} as h
      on h.workload = g.workload and h.hour_start = g.hour_start
),

peaks as (
    select
        h.workload,
        -- nearest rank: the ceil(q x n)-th smallest hour
        list_sort(list(h.tokens))[cast(ceil(any_value(b.peak_quantile) * count(*)) as integer)] as peak_hour_tokens,
        max(h.tokens) as max_hour_tokens
    from hours as h
    cross join bounds as b
    group by h.workload
),

observed as (
    select sd.workload, {{ tw_money('sum(sd.cost_usd)') }} as cost_usd, count(sd.cost_usd) as priced_rows
    from {{ ref('spend_daily') }} as sd
    join today as t
      on t.workload = sd.workload and t.tier = sd.tier and t.provider = sd.provider and t.model = sd.model
    cross join bounds as b
    where sd.day between b.first_day and b.last_day
    group by sd.workload
),

deployment as (
    select dd.deployment, dd.gpu_type, dd.engine, dd.quantization, dd.gpu_count
    from {{ ref('deployment_daily') }} as dd
    cross join bounds as b
    where dd.day <= b.last_day
    qualify row_number() over (partition by dd.deployment order by dd.day desc, dd.intervals desc, dd.gpu_type) = 1
),

latency as (
    select * from {{ ref('int_workload_latency') }}
)

select
    p.workload,
    t.tier as tier_now,
    t.provider as provider_now,
    t.model as model_now,
    t.deployment as current_deployment,
    dep.gpu_type as current_gpu_type,
    dep.engine as current_engine,
    dep.quantization as current_quantization,
    dep.gpu_count as current_gpus,
    b.first_day as window_start,
    b.last_day as window_end,
    p.days as days_observed,
    cast(
        {%- for t in token_types %} p.tpd_{{ t }} + p.btpd_{{ t }}{{ ' +' if not loop.last }}{% endfor %}
    as bigint) as volume,
    {%- for t in token_types %}
    p.tpd_{{ t }},
    {%- endfor %}
    {%- for t in token_types %}
    p.btpd_{{ t }},
    {%- endfor %}
    p.requests_per_day,
    p.error_rate,
    p.batch_share,
    p.cached_share,
    cast(pk.peak_hour_tokens as double) / 3600 as peak_tokens_per_second,
    cast(pk.max_hour_tokens as double) / 3600 as max_tokens_per_second,
    coalesce(
        cast(pk.peak_hour_tokens as double) * 24
            / nullif(cast({%- for t in token_types %} p.tpd_{{ t }} + p.btpd_{{ t }}{{ ' +' if not loop.last }}{% endfor %} as double), 0),
        1.0) as peak_to_mean,
    p.wow_growth,
    l.p50_ms as latency_p50_ms,
    l.p90_ms as latency_p90_ms,
    l.p99_ms as latency_p99_ms,
    case when o.priced_rows > 0 then tw_money_div(o.cost_usd * b.days_per_month, p.days) end as observed_monthly_cost_usd,
    c.data_class,
    c.ops_fte,
    c.customization,
    c.latency_slo_ms,
    c.capability_class,
    c.candidate_models,
    c.exclude_models,
    org.domicile,
    org.eu_domiciled,
    org.monthly_active_users,
    (c.workload is not null) as is_configured
from per_day as p
join today as t on t.workload = p.workload
join peaks as pk on pk.workload = p.workload
cross join bounds as b
left join observed as o on o.workload = p.workload
left join deployment as dep on dep.deployment = t.deployment
left join latency as l on l.workload = p.workload and l.tier = t.tier and l.provider = t.provider and l.model = t.model
left join {{ ref('stg_workload_config') }} as c on c.workload = p.workload
left join {{ ref('stg_organization_config') }} as org on true
