{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Each GPU capacity interval cut at UTC hour boundaries: one row per interval x clock hour it touches,
-- with the GPU-hours and GPU cost of that slice (partial hours pro-rated to the microsecond).

with intervals as (
    select * from {{ ref('stg_gpu_usage') }}
    where interval_end > interval_start
      and {{ tw_overlaps_window('interval_start', 'interval_end') }}
),

hours as (
    select
        iv.*,
        unnest(generate_series(
            date_trunc('hour', iv.interval_start),
            iv.interval_end - interval 1 microsecond,
            interval 1 hour
        )) as hour_start
    from intervals as iv
),

slices as (
    select
        h.*,
        cast(h.hour_start as date) as day,
        greatest(h.interval_start, h.hour_start) as slice_start,
        least(h.interval_end, h.hour_start + interval 1 hour) as slice_end
    from hours as h
    where {{ tw_in_window('h.hour_start', 'timestamp') }}
),

priced as (
    select
        s.*,
        datediff('microsecond', s.slice_start, s.slice_end) as active_us,
        -- the event's own price wins; else the gpu_prices row in force when the slice starts
        coalesce(s.hourly_price_usd, gp.hourly_price_usd) as gpu_hourly_price_usd,
        case
            when s.hourly_price_usd is not null then 'event'
            when gp.hourly_price_usd is not null then 'seed'
        end as gpu_price_source
    from slices as s
    left join {{ ref('stg_gpu_prices') }} as gp
      on gp.gpu_type = s.gpu_type
     and gp.valid_from <= s.slice_start
     and (gp.valid_to is null or s.slice_start < gp.valid_to)
)

select
    day,
    hour_start,
    deployment,
    event_id as gpu_event_id,
    gpu_type,
    gpu_count,
    model as served_model,
    engine as served_engine,
    slice_start,
    slice_end,
    active_us,
    -- gpu_count x active_us / 1h, and the same times the hourly price, both exact to 1e-12
    {{ tw_units_div('cast(gpu_count as hugeint) * active_us * 1000000000000', 3600000000) }} as gpu_hours,
    gpu_hourly_price_usd,
    gpu_price_source,
    case when gpu_hourly_price_usd is not null then
        {{ tw_units_div(tw_units('gpu_hourly_price_usd') ~ ' * gpu_count * active_us', 3600000000) }}
    end as gpu_cost_usd
from priced
