-- Self-hosted GPU capacity intervals, [interval_start, interval_end) in UTC.
select
    event_id,
    deployment,
    gpu_type,
    gpu_count,
    interval_start,
    interval_end,
    event_date,
    utilization,
    hourly_price_usd,
    engine,
    model,
    quantization
from {{ source('raw', 'gpu_usage') }}
