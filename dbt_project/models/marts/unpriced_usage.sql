{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Usage tierwise could not put a price on, per UTC day. Nothing here is counted as $0 anywhere.
--   no_token_price   a closed/hosted request whose provider+model has no price row in force
--   no_gpu_capacity  a self-hosted request on a deployment-hour with no GPU capacity reported
--                    (or with no deployment), so no GPU cost can be attributed to it
--   no_gpu_price     GPU capacity whose gpu_type has no price in gpu_prices and no price on the event

with unpriced_requests as (
    select
        event_date as day,
        'no_token_price' as reason,
        tier, provider, model, workload, deployment,
        cast(null as varchar) as gpu_type,
        tokens_total,
        event_time
    from {{ ref('priced_requests') }}
    where is_unpriced and {{ tw_in_window('event_date') }}
),

uncovered_requests as (
    select
        r.event_date as day,
        'no_gpu_capacity' as reason,
        r.tier, r.provider, r.model, r.workload, r.deployment,
        cast(null as varchar) as gpu_type,
        r.tokens_total,
        r.event_time
    from {{ ref('priced_requests') }} as r
    where r.tier = 'self_hosted'
      and {{ tw_in_window('r.event_date') }}
      and not exists (
          select 1 from {{ ref('int_deployment_hours') }} as h
          where h.deployment = r.deployment and h.hour_start = r.event_hour
      )
),

request_rows as (
    select
        day, reason, tier, provider, model, workload, deployment, gpu_type,
        cast(count(*) as bigint) as requests,
        cast(sum(tokens_total) as bigint) as tokens_total,
        {{ tw_money('null') }} as gpu_hours,
        min(event_time) as first_seen,
        max(event_time) as last_seen
    from (select * from unpriced_requests union all select * from uncovered_requests)
    group by day, reason, tier, provider, model, workload, deployment, gpu_type
),

gpu_rows as (
    select
        day,
        'no_gpu_price' as reason,
        'self_hosted' as tier,
        coalesce(max(served_engine), 'self_hosted') as provider,
        max(served_model) as model,
        cast(null as varchar) as workload,
        deployment,
        gpu_type,
        cast(0 as bigint) as requests,
        cast(0 as bigint) as tokens_total,
        {{ tw_money('sum(gpu_hours)') }} as gpu_hours,
        min(slice_start) as first_seen,
        max(slice_end) as last_seen
    from {{ ref('int_gpu_hour_slices') }}
    where gpu_cost_usd is null and {{ tw_in_window('day') }}
    group by day, deployment, gpu_type
)

select * from request_rows
union all
select * from gpu_rows
