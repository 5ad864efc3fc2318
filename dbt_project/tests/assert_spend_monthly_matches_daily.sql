-- spend_monthly is spend_daily summed by month, workload and team. Returns the groups that differ.
with daily as (
    select month, workload, team, sum(coalesce(cost_usd, 0)) as cost, sum(requests) as requests
    from {{ ref('spend_daily') }}
    group by 1, 2, 3
)
select d.month, d.workload, d.team, d.cost, m.cost_usd, d.requests, m.requests
from daily as d
full outer join {{ ref('spend_monthly') }} as m
  on m.month = d.month and m.workload = d.workload and m.team is not distinct from d.team
where m.month is null or d.month is null
   or coalesce(m.cost_usd, 0) <> d.cost or m.requests <> d.requests
