{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Spend per UTC day x workload x team x tier x provider x model. Token-priced requests carry their
-- token cost; self-hosted rows carry the GPU and ops cost attributed to them; each self-hosted model's
-- idle capacity is its own row with workload '(idle)', so the day's rows add up to the whole spend.

{%- set token_types = tw_token_types() %}

with request_rows as (
    select
        event_date as day,
        workload,
        team,
        tier,
        provider,
        model,
        false as is_idle,
        1 as requests,
        case when status = 'error' then 1 else 0 end as error_requests,
        case when shadow then 1 else 0 end as shadow_requests,
        case when batch then 1 else 0 end as batch_requests,
        case when is_unpriced then 1 else 0 end as unpriced_requests,
        {%- for t in token_types %}
        tokens_{{ t }},
        {%- endfor %}
        tokens_total,
        {%- for t in token_types %}
        cost_{{ t }}_usd,
        {%- endfor %}
        token_cost_usd,
        cast(null as decimal(38, 12)) as gpu_cost_usd,
        cast(null as decimal(38, 12)) as ops_cost_usd,
        token_cost_usd as row_cost_usd
    from {{ ref('priced_requests') }}
    where {{ tw_in_window('event_date') }}
),

selfhost_rows as (
    select
        day,
        workload,
        team,
        'self_hosted' as tier,
        provider,
        model,
        is_idle,
        0 as requests,
        0 as error_requests,
        0 as shadow_requests,
        0 as batch_requests,
        0 as unpriced_requests,
        {%- for t in token_types %}
        0 as tokens_{{ t }},
        {%- endfor %}
        0 as tokens_total,
        {%- for t in token_types %}
        cast(null as decimal(38, 12)) as cost_{{ t }}_usd,
        {%- endfor %}
        cast(null as decimal(38, 12)) as token_cost_usd,
        gpu_cost_usd,
        ops_cost_usd,
        cost_usd as row_cost_usd
    from {{ ref('int_selfhost_attribution') }}
    where {{ tw_in_window('day') }}
),

all_rows as (
    select * from request_rows
    union all
    select * from selfhost_rows
)

select
    day,
    cast(date_trunc('month', day) as date) as month,
    workload,
    team,
    tier,
    provider,
    model,
    is_idle,
    cast(sum(requests) as bigint) as requests,
    cast(sum(error_requests) as bigint) as error_requests,
    cast(sum(shadow_requests) as bigint) as shadow_requests,
    cast(sum(batch_requests) as bigint) as batch_requests,
    cast(sum(unpriced_requests) as bigint) as unpriced_requests,
    {%- for t in token_types %}
    cast(sum(tokens_{{ t }}) as bigint) as tokens_{{ t }},
    {%- endfor %}
    cast(sum(tokens_total) as bigint) as tokens_total,
    {%- for t in token_types %}
    {{ tw_money('sum(cost_' ~ t ~ '_usd)') }} as cost_{{ t }}_usd,
    {%- endfor %}
    {{ tw_money('sum(token_cost_usd)') }} as token_cost_usd,
    {{ tw_money('sum(gpu_cost_usd)') }} as gpu_cost_usd,
    {{ tw_money('sum(ops_cost_usd)') }} as ops_cost_usd,
    -- NULL when nothing in the row could be priced: unknown spend is never shown as $0
    {{ tw_money('sum(row_cost_usd)') }} as cost_usd
from all_rows
group by day, workload, team, tier, provider, model, is_idle
