{{ config(
    unique_key='month',
    pre_hook="{{ tw_replace_window('month', monthly=true) }}",
) }}

-- Spend per calendar month (UTC) x workload x team, split by tier. With a daily window it recomputes
-- every month the window touches, whole, from spend_daily.

{%- set token_types = tw_token_types() %}

select
    month,
    workload,
    team,
    cast(sum(requests) as bigint) as requests,
    cast(sum(error_requests) as bigint) as error_requests,
    cast(sum(unpriced_requests) as bigint) as unpriced_requests,
    {%- for t in token_types %}
    cast(sum(tokens_{{ t }}) as bigint) as tokens_{{ t }},
    {%- endfor %}
    cast(sum(tokens_total) as bigint) as tokens_total,
    {{ tw_money('sum(token_cost_usd)') }} as token_cost_usd,
    {{ tw_money('sum(gpu_cost_usd)') }} as gpu_cost_usd,
    {{ tw_money('sum(ops_cost_usd)') }} as ops_cost_usd,
    {{ tw_money("sum(cost_usd) filter (where tier = 'closed_api')") }} as closed_api_cost_usd,
    {{ tw_money("sum(cost_usd) filter (where tier = 'hosted_open_api')") }} as hosted_open_api_cost_usd,
    {{ tw_money("sum(cost_usd) filter (where tier = 'self_hosted')") }} as self_hosted_cost_usd,
    {{ tw_money('sum(cost_usd)') }} as cost_usd,
    cast(count(distinct day) as bigint) as active_days
from {{ ref('spend_daily') }}
where {{ tw_in_month_window('month') }}
group by month, workload, team
