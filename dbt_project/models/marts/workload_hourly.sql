{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Served (non-shadow) tokens per workload and UTC hour: the traffic shape GPUs are sized for.

select
    event_date as day,
    event_hour as hour_start,
    workload,
    cast(count(*) as bigint) as requests,
    cast(sum(tokens_total) as bigint) as tokens_total
from {{ ref('priced_requests') }}
where not shadow and {{ tw_in_window('event_date') }}
group by event_date, event_hour, workload
