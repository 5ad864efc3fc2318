-- Served tokens/day per workload and week, for the forecast: the last forecast_weeks 7-day weeks ending on the
-- newest day, keeping only weeks that lie wholly after the workload's first day (week_index 0 = oldest).

with bounds as (
    select cast(as_of as date) - 1 as last_day, forecast_weeks
    from {{ ref('int_projection_assumptions') }}
),

weeks as (
    select cast(unnest(range(0, b.forecast_weeks)) as integer) as k, b.last_day, b.forecast_weeks
    from bounds as b
),

first_seen as (
    select workload, min(day) as first_day
    from {{ ref('workload_daily') }}
    where not is_shadow
    group by workload
),

grid as (
    select f.workload, w.forecast_weeks - 1 - w.k as week_index, cast(w.last_day - 7 * w.k as date) as week_end
    from first_seen as f
    cross join weeks as w
    where w.last_day - 7 * w.k - 6 >= f.first_day
)

select
    g.workload,
    cast(g.week_index as integer) as week_index,
    g.week_end,
    coalesce(sum(d.tokens_total), 0) / 7.0 as tokens_per_day
from grid as g
left join {{ ref('workload_daily') }} as d
  on d.workload = g.workload and not d.is_shadow and d.day between g.week_end - 6 and g.week_end
group by g.workload, g.week_index, g.week_end
