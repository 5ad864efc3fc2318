-- Latency percentiles per workload x tier x provider x model over the trailing window, merged from the daily
-- sketches (within 2% of the exact values; shadow requests included, so candidates are measured too).

with bounds as (
    select cast(as_of as date) - 1 as last_day, cast(as_of as date) - window_days as first_day
    from {{ ref('int_projection_assumptions') }}
),

window_sketch as (
    select s.*
    from {{ ref('workload_latency_sketch') }} as s
    cross join bounds as b
    where s.day between b.first_day and b.last_day
),

q as (
    select * from tw_sketch_quantiles('window_sketch')
)

select
    workload,
    tier,
    provider,
    model,
    max(latency_n) filter (where metric = 'duration_ms') as latency_n,
    max(p50_ms) filter (where metric = 'duration_ms') as p50_ms,
    max(p90_ms) filter (where metric = 'duration_ms') as p90_ms,
    max(p99_ms) filter (where metric = 'duration_ms') as p99_ms,
    max(p50_ms) filter (where metric = 'ttft_ms') as ttft_p50_ms,
    max(p90_ms) filter (where metric = 'ttft_ms') as ttft_p90_ms,
    max(p99_ms) filter (where metric = 'ttft_ms') as ttft_p99_ms
from q
group by workload, tier, provider, model
