{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- One row per self-hosted deployment x UTC hour with capacity: its GPU cost and its share of the ops
-- staff cost. Ops: ops_fte x salary / 12 per month, spread evenly over the month's hours; each hour's
-- amount goes to the deployments running in it, weighted by how much of the hour each ran. When less
-- than one deployment-hour ran in total, only that fraction of the hour's ops cost is charged.

with slices as (
    select * from {{ ref('int_gpu_hour_slices') }}
    where {{ tw_in_window('day') }}
),

per_deployment as (
    select
        deployment,
        hour_start,
        day,
        sum(gpu_hours) as gpu_hours,
        sum(gpu_cost_usd) as gpu_cost_usd,
        count(*) filter (where gpu_cost_usd is null) as unpriced_slices,
        -- overlapping intervals of one deployment never count more than the whole hour
        cast(least(sum(active_us), 3600000000) as bigint) as active_us,
        string_agg(distinct gpu_type, ',' order by gpu_type) as gpu_types,
        max(served_model) as served_model,
        max(served_engine) as served_engine
    from slices
    group by deployment, hour_start, day
),

with_fleet as (
    select
        d.*,
        cast(sum(d.active_us) over (partition by d.hour_start) as bigint) as fleet_active_us,
        cast(extract(day from last_day(d.hour_start)) as integer) * 24 as hours_in_month,
        a.annual_ops_cost_usd
    from per_deployment as d
    left join {{ ref('stg_selfhost_assumptions') }} as a
      on a.valid_from <= d.hour_start
     and (a.valid_to is null or d.hour_start < a.valid_to)
),

costed as (
    select
        *,
        -- annual x active_us / (12 x hours_in_month x max(1h, fleet active time))
        coalesce(
            {{ tw_units_div(
                tw_units('annual_ops_cost_usd') ~ ' * active_us',
                '12 * hours_in_month * greatest(3600000000, fleet_active_us)') }},
            {{ tw_money(0) }}
        ) as ops_cost_usd
    from with_fleet
)

select
    day,
    hour_start,
    deployment,
    gpu_types,
    served_model,
    served_engine,
    gpu_hours,
    {{ tw_units_div('cast(active_us as hugeint) * 1000000000000', 3600000000) }} as active_hours,
    active_us,
    fleet_active_us,
    unpriced_slices,
    gpu_cost_usd,
    ops_cost_usd,
    {{ tw_money('coalesce(gpu_cost_usd, 0) + ops_cost_usd') }} as total_cost_usd
from costed
