{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Each deployment-hour's cost handed to the consumers (workload x team x provider x model) that used
-- the deployment in that hour, by their share of tokens (input + output). An hour with capacity but no
-- tokens served becomes one idle row (workload '(idle)'). Shares are rounded to 1e-12 and the largest
-- consumer takes the remainder, so the rows of an hour add up to its cost exactly.

with hours as (
    -- an hour whose GPU slices had no price hands out $0 of GPU cost (unpriced_usage lists them)
    select * replace ({{ tw_money('coalesce(gpu_cost_usd, 0)') }} as gpu_cost_usd)
    from {{ ref('int_deployment_hours') }}
    where {{ tw_in_window('day') }}
),

usage as (
    select
        deployment,
        event_hour as hour_start,
        workload,
        team,
        provider,
        model,
        count(*) as requests,
        sum(tokens_total) as tokens
    from {{ ref('stg_usage_events') }}
    where tier = 'self_hosted'
      and deployment is not null
      and {{ tw_in_window('event_date') }}
    group by all
),

served as (
    select
        h.day,
        h.hour_start,
        h.deployment,
        h.served_model,
        h.gpu_hours as hour_gpu_hours,
        h.active_hours as hour_active_hours,
        h.gpu_cost_usd as hour_gpu_cost_usd,
        h.ops_cost_usd as hour_ops_cost_usd,
        u.workload,
        u.team,
        u.provider,
        u.model,
        u.requests,
        u.tokens,
        sum(u.tokens) over hour_window as hour_tokens,
        row_number() over (
            partition by h.deployment, h.hour_start
            order by u.tokens desc, u.workload, u.team nulls first, u.provider, u.model
        ) as share_rank
    from hours as h
    join usage as u
      on u.deployment = h.deployment
     and u.hour_start = h.hour_start
    window hour_window as (partition by h.deployment, h.hour_start)
),

pieces as (
    select
        *,
        {{ tw_share_piece('hour_gpu_cost_usd', 'tokens', 'hour_tokens') }} as gpu_piece,
        {{ tw_share_piece('hour_ops_cost_usd', 'tokens', 'hour_tokens') }} as ops_piece,
        {{ tw_share_piece('hour_gpu_hours', 'tokens', 'hour_tokens') }} as gpu_hours_piece,
        {{ tw_share_piece('hour_active_hours', 'tokens', 'hour_tokens') }} as active_hours_piece
    from served
    where hour_tokens > 0
),

attributed as (
    select
        day,
        hour_start,
        deployment,
        false as is_idle,
        workload,
        team,
        provider,
        model,
        requests,
        tokens,
        hour_tokens,
        {{ tw_share_fixed('gpu_hours_piece', 'hour_gpu_hours', 'share_rank', 'hour_window') }} as gpu_hours,
        {{ tw_share_fixed('active_hours_piece', 'hour_active_hours', 'share_rank', 'hour_window') }} as active_hours,
        {{ tw_share_fixed('gpu_piece', 'hour_gpu_cost_usd', 'share_rank', 'hour_window') }} as gpu_cost_usd,
        {{ tw_share_fixed('ops_piece', 'hour_ops_cost_usd', 'share_rank', 'hour_window') }} as ops_cost_usd
    from pieces
    window hour_window as (partition by deployment, hour_start)
),

idle as (
    select
        h.day,
        h.hour_start,
        h.deployment,
        true as is_idle,
        '(idle)' as workload,
        cast(null as varchar) as team,
        coalesce(h.served_engine, 'self_hosted') as provider,
        coalesce(h.served_model, h.deployment) as model,
        cast(0 as bigint) as requests,
        cast(0 as hugeint) as tokens,
        cast(0 as hugeint) as hour_tokens,
        h.gpu_hours,
        h.active_hours,
        h.gpu_cost_usd,
        h.ops_cost_usd
    from hours as h
    where not exists (
        select 1 from pieces as p
        where p.deployment = h.deployment and p.hour_start = h.hour_start
    )
)

-- Each side is cast to the output types before the union, never after: DuckDB gives a union column one
-- type from both sides, and a DECIMAL(38,0) or DOUBLE side would drop the 12 decimals or the exactness.
{%- for side in ['attributed', 'idle'] %}
select
    day,
    hour_start,
    deployment,
    is_idle,
    workload,
    team,
    provider,
    model,
    requests,
    cast(tokens as bigint) as tokens,
    cast(hour_tokens as bigint) as hour_tokens,
    {{ tw_money('gpu_hours') }} as gpu_hours,
    {{ tw_money('active_hours') }} as active_hours,
    {{ tw_money('gpu_cost_usd') }} as gpu_cost_usd,
    {{ tw_money('ops_cost_usd') }} as ops_cost_usd,
    {{ tw_money('gpu_cost_usd + ops_cost_usd') }} as cost_usd
from {{ side }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
