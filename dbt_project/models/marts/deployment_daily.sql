{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- What each self-hosted deployment ran on, per UTC day: GPU type, count, engine, model and quantization as
-- its heartbeats reported them. The projections read today's self-hosted configuration from here.

select
    event_date as day,
    deployment,
    gpu_type,
    engine,
    model,
    quantization,
    cast(max(gpu_count) as integer) as gpu_count,
    cast(count(*) as bigint) as intervals
from {{ ref('stg_gpu_usage') }}
where {{ tw_in_window('event_date') }}
group by all
