{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- A mergeable latency sketch per UTC day x workload x tier x provider x model x metric: request counts per
-- logarithmic bucket of relative width 2% (tw_sketch_bucket). Percentiles over any set of days come from
-- summing the buckets (tw_sketch_quantiles), never from averaging daily percentiles.

with measured as (
    select event_date, workload, tier, provider, model, 'duration_ms' as metric, duration_ms as ms
    from {{ ref('priced_requests') }}
    where duration_ms is not null and {{ tw_in_window('event_date') }}
    union all
    select event_date, workload, tier, provider, model, 'ttft_ms' as metric, ttft_ms as ms
    from {{ ref('priced_requests') }}
    where ttft_ms is not null and {{ tw_in_window('event_date') }}
)

select
    event_date as day,
    workload,
    tier,
    provider,
    model,
    metric,
    tw_sketch_bucket(ms) as bucket,
    cast(count(*) as bigint) as requests
from measured
group by all
