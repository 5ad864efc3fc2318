{{ config(
    unique_key='x_ChargeDate',
    pre_hook="{{ tw_replace_window('x_ChargeDate') }}",
) }}

-- FinOps FOCUS 1.0 cost and usage rows (docs/costs.md#6-focus-10-mapping), every column of the
-- specification. One token charge line per UTC day x tier x provider x model x workload x team x
-- environment x tags x token type x price row x unit price, so that ListUnitPrice x PricingQuantity =
-- ListCost exactly; self-hosted deployments get GPU and ops-staff lines per workload (idle capacity under
-- workload '(idle)'). Unpriced usage has no cost to report and is left out; it is listed in unpriced_usage.

-- One row per request and priced token kind (the five token types, cache writes split by lifetime).
with token_parts as (
    {%- set parts = [
        ('input', 'tokens_input', 'rate_input'),
        ('cache_read', 'tokens_cache_read', 'rate_cache_read'),
        ('cache_creation', 'tokens_cache_creation - coalesce(tokens_cache_creation_1h, 0)', 'rate_cache_creation'),
        ('cache_creation_1h', 'coalesce(tokens_cache_creation_1h, 0)', 'rate_cache_creation_1h'),
        ('output', 'tokens_output', 'rate_output'),
        ('reasoning', 'tokens_reasoning', 'rate_reasoning'),
    ] %}
    {%- for name, tokens, rate in parts %}
    select
        event_date as charge_date, tier, provider, model, workload, team, environment, tags, price_row_id,
        '{{ name }}' as token_type,
        {{ tokens }} as tokens,
        {{ rate }} as rate
    from {{ ref('priced_requests') }}
    where pricing_basis = 'token_price' and {{ tw_in_window('event_date') }} and {{ tokens }} <> 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

token_lines as (
    select
        charge_date,
        tier, provider, model, workload, team, environment, tags, price_row_id,
        cast(null as varchar) as deployment,
        'tokens' as cost_type,
        token_type,
        false as is_idle,
        'Tokens' as unit,
        cast(sum(tokens) as decimal(38, 12)) as quantity,
        -- one rate per line: the line's cost is its unit price times its tokens, exactly
        {{ tw_money('rate * sum(tokens)') }} as cost,
        rate as unit_price,
        provider || '/' || model || '/' || token_type as sku
    from token_parts
    group by charge_date, tier, provider, model, workload, team, environment, tags, price_row_id, token_type, rate
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

-- Self-hosted cost is an allocation (GPU-hours and staff time shared by tokens), so its unit price is the
-- line's average: cost / quantity, rounded half up to 1e-12 in integer units (never a float division).
selfhost_lines as (
    select
        charge_date,
        'self_hosted' as tier, provider, model, workload, team,
        cast(null as varchar) as environment,
        cast(null as map(varchar, varchar)) as tags,
        cast(null as varchar) as price_row_id,
        deployment,
        'gpu' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'GPU-Hours' as unit,
        gpu_hours as quantity,
        gpu_cost_usd as cost,
        case when gpu_hours > 0 then
            {{ tw_units_div(tw_units('gpu_cost_usd') ~ ' * 1000000000000', tw_units('gpu_hours')) }} end as unit_price,
        gpu_types as sku
    from selfhost_sums
    union all
    select
        charge_date,
        'self_hosted' as tier, provider, model, workload, team,
        cast(null as varchar) as environment,
        cast(null as map(varchar, varchar)) as tags,
        cast(null as varchar) as price_row_id,
        deployment,
        'ops_staff' as cost_type,
        cast(null as varchar) as token_type,
        is_idle,
        'Deployment-Hours' as unit,
        active_hours as quantity,
        ops_cost_usd as cost,
        case when active_hours > 0 then
            {{ tw_units_div(tw_units('ops_cost_usd') ~ ' * 1000000000000', tw_units('active_hours')) }} end as unit_price,
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
    -- FOCUS 1.0 columns, in the specification's (alphabetical) order
    cast(null as varchar) as AvailabilityZone,
    l.cost as BilledCost,
    l.billing_account as BillingAccountId,
    l.billing_account as BillingAccountName,
    'USD' as BillingCurrency,
    cast(date_trunc('month', l.charge_date) + interval 1 month as timestamp) as BillingPeriodEnd,
    cast(date_trunc('month', l.charge_date) as timestamp) as BillingPeriodStart,
    'Usage' as ChargeCategory,
    cast(null as varchar) as ChargeClass,
    case l.cost_type
        when 'tokens' then l.model || ' ' || replace(replace(l.token_type, 'cache_creation_1h', 'cache creation 1-hour'), '_', ' ')
            || ' tokens at ' || rtrim(rtrim(cast(l.unit_price * 1000000 as varchar), '0'), '.') || ' USD per 1M'
        when 'gpu' then 'GPU time (' || coalesce(l.sku, 'unknown GPU') || ') on deployment ' || l.deployment
            || case when l.is_idle then ', idle' else '' end
        else 'Ops staff time for deployment ' || l.deployment || case when l.is_idle then ', idle' else '' end
    end as ChargeDescription,
    case when l.cost_type = 'ops_staff' then 'Recurring' else 'Usage-Based' end as ChargeFrequency,
    cast(l.charge_date + interval 1 day as timestamp) as ChargePeriodEnd,
    cast(l.charge_date as timestamp) as ChargePeriodStart,
    -- no commitment-based discounts are modelled: the five CommitmentDiscount columns are null
    cast(null as varchar) as CommitmentDiscountCategory,
    cast(null as varchar) as CommitmentDiscountId,
    cast(null as varchar) as CommitmentDiscountName,
    cast(null as varchar) as CommitmentDiscountStatus,
    cast(null as varchar) as CommitmentDiscountType,
    l.quantity as ConsumedQuantity,
    l.unit as ConsumedUnit,
    l.cost as ContractedCost,
    l.unit_price as ContractedUnitPrice,
    l.cost as EffectiveCost,
    l.billing_account as InvoiceIssuerName,
    l.cost as ListCost,
    l.unit_price as ListUnitPrice,
    'Standard' as PricingCategory,
    l.quantity as PricingQuantity,
    l.unit as PricingUnit,
    l.provider as ProviderName,
    coalesce(p.publisher, l.provider) as PublisherName,
    -- an API call has no region tierwise knows of, and a deployment's is not reported
    cast(null as varchar) as RegionId,
    cast(null as varchar) as RegionName,
    l.deployment as ResourceId,
    l.deployment as ResourceName,
    case when l.deployment is not null then 'LLM deployment' end as ResourceType,
    'AI and Machine Learning' as ServiceCategory,
    case when l.tier = 'self_hosted' then 'Self-hosted LLM inference' else l.provider || ' LLM API' end as ServiceName,
    l.sku as SkuId,
    -- the catalog row and token kind that priced the line; self-hosted lines are allocations at their own rate
    case when l.price_row_id is not null then l.price_row_id || '/' || l.token_type
         else 'self_hosted/' || l.deployment || '/' || l.cost_type end as SkuPriceId,
    l.team as SubAccountId,
    l.team as SubAccountName,
    -- FOCUS Tags: a JSON object; tierwise's own keys carry its prefix, the event's tags keep theirs
    to_json(map_concat(
        map_from_entries(list_filter([
            {'key': 'tierwise/workload', 'value': l.workload},
            {'key': 'tierwise/team', 'value': l.team},
            {'key': 'tierwise/environment', 'value': l.environment},
            {'key': 'tierwise/deployment', 'value': l.deployment}
        ], lambda e: e.value is not null)),
        coalesce(l.tags, cast(map() as map(varchar, varchar)))
    ))::varchar as Tags,
    -- tierwise extensions
    l.charge_date as x_ChargeDate,
    l.tier as x_Tier,
    l.model as x_Model,
    l.token_type as x_TokenType,
    l.workload as x_Workload,
    l.team as x_Team,
    l.deployment as x_Deployment,
    l.cost_type as x_CostType,
    l.is_idle as x_IsIdle,
    l.environment as x_Environment
from lines as l
left join publishers as p
  on p.model = l.model
