{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Latency percentiles and error rate per UTC day x tier x provider x model (all requests, shadow included).

select
    event_date as day,
    tier,
    provider,
    model,
    cast(count(*) as bigint) as requests,
    cast(count(*) filter (where status = 'error') as bigint) as error_requests,
    cast(count(*) filter (where status = 'error') as double) / count(*) as error_rate,
    quantile_cont(duration_ms, 0.5) as duration_ms_p50,
    quantile_cont(duration_ms, 0.9) as duration_ms_p90,
    quantile_cont(duration_ms, 0.99) as duration_ms_p99,
    quantile_cont(ttft_ms, 0.5) as ttft_ms_p50,
    quantile_cont(ttft_ms, 0.9) as ttft_ms_p90,
    quantile_cont(ttft_ms, 0.99) as ttft_ms_p99
from {{ ref('priced_requests') }}
where {{ tw_in_window('event_date') }}
group by event_date, tier, provider, model
