-- Every priced request's cost reaches spend_daily: per day, API-tier token cost in spend_daily equals the
-- sum over priced_requests. Returns the days that differ.
with requests as (
    select event_date as day, sum(token_cost_usd) as cost, count(*) as n
    from {{ ref('priced_requests') }}
    group by 1
),
spend as (
    select day, sum(token_cost_usd) as cost, sum(requests) as n
    from {{ ref('spend_daily') }}
    group by 1
)
select r.day, r.cost, s.cost, r.n, s.n
from requests as r
full outer join spend as s on s.day = r.day
where r.day is null or s.day is null
   or coalesce(r.cost, 0) <> coalesce(s.cost, 0) or r.n <> s.n
