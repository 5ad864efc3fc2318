-- The FOCUS export and spend_daily report the same money: per day, the FOCUS lines add up to the priced
-- part of spend_daily. Returns the days where they differ.
with focus as (
    select x_ChargeDate as day, sum(BilledCost) as cost
    from {{ ref('focus_cost_and_usage') }}
    group by 1
),
spend as (
    select day, sum(coalesce(cost_usd, 0)) as cost
    from {{ ref('spend_daily') }}
    group by 1
)
select coalesce(f.day, s.day) as day, f.cost as focus_cost, s.cost as spend_cost
from focus as f
full outer join spend as s on s.day = f.day
where coalesce(f.cost, 0) <> coalesce(s.cost, 0)
