{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Per UTC day x self-hosted deployment: what its capacity cost, how much of it served traffic and how
-- much sat idle (hours with capacity but no tokens). attributed + idle = total, exactly.

with hours as (
    select
        day,
        deployment,
        cast(count(*) as bigint) as capacity_hours,
        {{ tw_money('sum(gpu_hours)') }} as gpu_hours,
        {{ tw_money('sum(total_cost_usd)') }} as total_cost_usd
    from {{ ref('int_deployment_hours') }}
    where {{ tw_in_window('day') }}
    group by day, deployment
),

split as (
    select
        day,
        deployment,
        cast(count(distinct hour_start) filter (where is_idle) as bigint) as idle_hours,
        {{ tw_money('coalesce(sum(gpu_hours) filter (where is_idle), 0)') }} as idle_gpu_hours,
        {{ tw_money('coalesce(sum(gpu_cost_usd) filter (where is_idle), 0)') }} as idle_gpu_cost_usd,
        {{ tw_money('coalesce(sum(ops_cost_usd) filter (where is_idle), 0)') }} as idle_ops_cost_usd,
        {{ tw_money('coalesce(sum(cost_usd) filter (where is_idle), 0)') }} as idle_cost_usd,
        {{ tw_money('coalesce(sum(cost_usd) filter (where not is_idle), 0)') }} as attributed_cost_usd
    from {{ ref('int_selfhost_attribution') }}
    where {{ tw_in_window('day') }}
    group by day, deployment
)

select
    h.day,
    h.deployment,
    h.capacity_hours,
    s.idle_hours,
    h.gpu_hours,
    s.idle_gpu_hours,
    h.total_cost_usd,
    s.attributed_cost_usd,
    s.idle_gpu_cost_usd,
    s.idle_ops_cost_usd,
    s.idle_cost_usd,
    case when h.total_cost_usd > 0
         then cast(s.idle_cost_usd as double) / cast(h.total_cost_usd as double) end as idle_share
from hours as h
join split as s
  on s.day = h.day and s.deployment = h.deployment
