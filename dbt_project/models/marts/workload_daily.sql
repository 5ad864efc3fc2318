{{ config(
    unique_key='day',
    pre_hook="{{ tw_replace_window('day') }}",
) }}

-- Per UTC day x workload x tier x provider x model x deployment x shadow: requests, errors, tokens by type
-- split into interactive and batch, token cost, and eval scores. The daily input of the traffic profiles
-- (models/decisions), which therefore never read raw events.

{%- set token_types = tw_token_types() %}

select
    event_date as day,
    workload,
    tier,
    provider,
    model,
    deployment,
    shadow as is_shadow,
    cast(count(*) as bigint) as requests,
    cast(count(*) filter (where status = 'error') as bigint) as error_requests,
    cast(count(*) filter (where batch) as bigint) as batch_requests,
    {%- for t in token_types %}
    cast(coalesce(sum(tokens_{{ t }}) filter (where not batch), 0) as bigint) as tokens_{{ t }},
    {%- endfor %}
    {%- for t in token_types %}
    cast(coalesce(sum(tokens_{{ t }}) filter (where batch), 0) as bigint) as batch_tokens_{{ t }},
    {%- endfor %}
    cast(sum(tokens_total) as bigint) as tokens_total,
    {{ tw_money('sum(token_cost_usd)') }} as token_cost_usd,
    cast(count(eval_score) as bigint) as eval_requests,
    sum(eval_score) as eval_score_sum
from {{ ref('priced_requests') }}
where {{ tw_in_window('event_date') }}
group by event_date, workload, tier, provider, model, deployment, shadow
