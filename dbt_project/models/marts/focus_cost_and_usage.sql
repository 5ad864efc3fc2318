{{ config(
    unique_key='x_ChargeDate',
    pre_hook="{{ tw_replace_window('x_ChargeDate') }}",
) }}

-- FinOps FOCUS 1.0 cost and usage rows (docs/costs.md#focus). One charge line per UTC day x tier x
-- provider x model x workload x team x token type for token-priced usage; self-hosted deployments get
-- their own GPU and ops-staff lines per workload (idle capacity under workload '(idle)'). Unpriced usage
-- has no cost to report and is left out; it is listed in unpriced_usage.

{%- set token_types = tw_token_types() %}

-- Both halves sum once per line key, then turn each summed row into one charge line per cost kind.
with token_sums as (
    select
        event_date as charge_date,
        tier, provider, model, workload, team,
        {%- for t in token_types %}
        sum(tokens_{{ t }}) as tokens_{{ t }},
        {{ tw_money('sum(cost_' ~ t ~ '_usd)') }} as cost_{{ t }}_usd{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('priced_requests') }}
    where pricing_basis = 'token_price' and {{ tw_in_window('event_date') }}
    group by event_date, tier, provider, model, workload, team
),

token_lines as (
    {%- for t in token_types %}
    select
        charge_date,
        tier, provider, model, workload, team,
        cast(null as varchar) as deployment,
        'tokens' as cost_type,
        '{{ t }}' as token_type,
        false as is_idle,
        'Tokens' as unit,
        cast(tokens_{{ t }} as decimal(38, 12)) as quantity,
        cost_{{ t }}_usd as cost,
        provider || '/' || model || '/{{ t }}' as sku
    from token_sums
    where tokens_{{ t }} <> 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

selfhost_sums as (
    select
        a.day as charge_date,
        a.provider, a.model, a.workload, a.team, a.deployment, a.is_idle,
        {{ tw_money('sum(a.gpu_hours)') }} as gpu_hours,
        {{ tw_money('sum(a.gpu_cost_usd)') }} as gpu_cost_usd,
        {{ tw_money('sum(a.active_hours)') }} as active_hours,
        {{ tw_money('sum(a.ops_cost_usd)') }} as ops_cost_usd,
        string_agg(distinct h.gpu_types, ',' order by h.gpu_types) as gpu_types
    from {{ ref('int_selfhost_attribution') }} as a
    join {{ ref('int_deployment_hours') }} as h
      on h.deployment = a.deployment and h.hour_start = a.hour_start
    where {{ tw_in_window('a.day') }}
    group by a.day, a.provider, a.model, a.workload, a.team, a.deployment, a.is_idle
),

selfhost_lines as (
    select
        charge_date,
        'self_hosted' as tier, provider, model, workload, team, deployment,
        'gpu' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'GPU-Hours' as unit,
        gpu_hours as quantity,
        gpu_cost_usd as cost,
        gpu_types as sku
    from selfhost_sums
    union all
    select
        charge_date,
        'self_hosted' as tier, provider, model, workload, team, deployment,
        'ops_staff' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'Deployment-Hours' as unit,
        active_hours as quantity,
        ops_cost_usd as cost,
        'ops-staff' as sku
    from selfhost_sums
),

lines as (
    select
        *,
        -- own GPUs have no API vendor account: they bill to 'self_hosted'
        case when tier = 'self_hosted' then 'self_hosted' else provider end as billing_account
    from (
        select * from token_lines
        union all
        select * from selfhost_lines
    )
),

publishers as (
    select model, publisher from {{ ref('stg_model_licenses') }}
)

select
    -- FOCUS 1.0 mandatory columns
    l.cost as BilledCost,
    l.billing_account as BillingAccountId,
    l.billing_account as BillingAccountName,
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
    l.billing_account as InvoiceIssuerName,
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
    l.sku as SkuId,
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
