{{ config(
    unique_key='x_ChargeDate',
    pre_hook="{{ tw_replace_window('x_ChargeDate') }}",
) }}

-- FinOps FOCUS 1.0 cost and usage rows (docs/costs.md#focus). One charge line per UTC day x tier x
-- provider x model x workload x team x token type for token-priced usage; self-hosted deployments get
-- their own GPU and ops-staff lines per workload (idle capacity under workload '(idle)'). Unpriced usage
-- has no cost to report and is left out; it is listed in unpriced_usage.

{%- set token_types = ['input', 'cache_read', 'cache_creation', 'output', 'reasoning'] %}

with token_lines as (
    {%- for t in token_types %}
    select
        event_date as charge_date,
        tier, provider, model, workload, team,
        cast(null as varchar) as deployment,
        'tokens' as cost_type,
        '{{ t }}' as token_type,
        false as is_idle,
        'Tokens' as unit,
        cast(sum(tokens_{{ t }}) as decimal(38, 12)) as quantity,
        {{ tw_money('sum(cost_' ~ t ~ '_usd)') }} as cost,
        cast(null as varchar) as sku
    from {{ ref('priced_requests') }}
    where pricing_basis = 'token_price' and {{ tw_in_window('event_date') }}
    group by event_date, tier, provider, model, workload, team
    having sum(tokens_{{ t }}) <> 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

selfhost as (
    select a.*, h.gpu_types
    from {{ ref('int_selfhost_attribution') }} as a
    join {{ ref('int_deployment_hours') }} as h
      on h.deployment = a.deployment and h.hour_start = a.hour_start
    where {{ tw_in_window('a.day') }}
),

gpu_lines as (
    select
        day as charge_date,
        'self_hosted' as tier, provider, model, workload, team, deployment,
        'gpu' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'GPU-Hours' as unit,
        {{ tw_money('sum(gpu_hours)') }} as quantity,
        {{ tw_money('sum(gpu_cost_usd)') }} as cost,
        string_agg(distinct gpu_types, ',' order by gpu_types) as sku
    from selfhost
    group by day, provider, model, workload, team, deployment, is_idle
),

ops_lines as (
    select
        day as charge_date,
        'self_hosted' as tier, provider, model, workload, team, deployment,
        'ops_staff' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'Deployment-Hours' as unit,
        {{ tw_money('sum(active_hours)') }} as quantity,
        {{ tw_money('sum(ops_cost_usd)') }} as cost,
        'ops-staff' as sku
    from selfhost
    group by day, provider, model, workload, team, deployment, is_idle
),

lines as (
    select * from token_lines
    union all
    select * from gpu_lines
    union all
    select * from ops_lines
),

publishers as (
    select model, publisher from {{ ref('stg_model_licenses') }}
)

select
    -- FOCUS 1.0 mandatory columns
    l.cost as BilledCost,
    -- own GPUs have no API vendor account: they bill to 'self_hosted'
    case when l.tier = 'self_hosted' then 'self_hosted' else l.provider end as BillingAccountId,
    case when l.tier = 'self_hosted' then 'self_hosted' else l.provider end as BillingAccountName,
    'USD' as BillingCurrency,
    cast(date_trunc('month', l.charge_date) + interval 1 month as timestamp) as BillingPeriodEnd,
    cast(date_trunc('month', l.charge_date) as timestamp) as BillingPeriodStart,
    'Usage' as ChargeCategory,
    cast(null as varchar) as ChargeClass,
    case l.cost_type
        when 'tokens' then l.model || ' ' || replace(l.token_type, '_', ' ') || ' tokens'
        when 'gpu' then 'GPU time (' || coalesce(l.sku, 'unknown GPU') || ') on deployment ' || l.deployment
            || case when l.is_idle then ', idle' else '' end
        else 'Ops staff time for deployment ' || l.deployment || case when l.is_idle then ', idle' else '' end
    end as ChargeDescription,
    cast(l.charge_date + interval 1 day as timestamp) as ChargePeriodEnd,
    cast(l.charge_date as timestamp) as ChargePeriodStart,
    l.cost as ContractedCost,
    l.cost as EffectiveCost,
    case when l.tier = 'self_hosted' then 'self_hosted' else l.provider end as InvoiceIssuerName,
    l.cost as ListCost,
    l.quantity as PricingQuantity,
    l.unit as PricingUnit,
    l.provider as ProviderName,
    coalesce(p.publisher, l.provider) as PublisherName,
    'AI and Machine Learning' as ServiceCategory,
    case when l.tier = 'self_hosted' then 'Self-hosted LLM inference' else l.provider || ' LLM API' end as ServiceName,
    -- FOCUS 1.0 recommended and conditional columns tierwise can fill
    case when l.cost_type = 'ops_staff' then 'Recurring' else 'Usage-Based' end as ChargeFrequency,
    'Standard' as PricingCategory,
    l.quantity as ConsumedQuantity,
    l.unit as ConsumedUnit,
    l.deployment as ResourceId,
    l.deployment as ResourceName,
    case when l.deployment is not null then 'LLM deployment' end as ResourceType,
    case l.cost_type
        when 'tokens' then l.provider || '/' || l.model || '/' || l.token_type
        when 'gpu' then l.sku
        else l.sku
    end as SkuId,
    l.team as SubAccountId,
    l.team as SubAccountName,
    -- tierwise extensions
    l.charge_date as x_ChargeDate,
    l.tier as x_Tier,
    l.model as x_Model,
    l.token_type as x_TokenType,
    l.workload as x_Workload,
    l.team as x_Team,
    l.deployment as x_Deployment,
    l.cost_type as x_CostType,
    l.is_idle as x_IsIdle
from lines as l
left join publishers as p
  on p.model = l.model
