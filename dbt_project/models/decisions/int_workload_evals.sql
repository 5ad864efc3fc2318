-- Shadow evals per workload x candidate model over the trailing window, against the baseline: today's model's
-- own scored (non-shadow) requests. eval_gap = candidate mean / baseline mean - 1.

with bounds as (
    select cast(as_of as date) - 1 as last_day, cast(as_of as date) - window_days as first_day
    from {{ ref('int_projection_assumptions') }}
),

scored as (
    select d.*
    from {{ ref('workload_daily') }} as d
    cross join bounds as b
    where d.day between b.first_day and b.last_day and d.eval_requests > 0
),

baseline as (
    select s.workload, sum(s.eval_requests) as n, sum(s.eval_score_sum) / sum(s.eval_requests) as mean
    from scored as s
    join {{ ref('int_workload_profile') }} as p
      on p.workload = s.workload and p.model_now = s.model and p.tier_now = s.tier
    where not s.is_shadow
    group by s.workload
),

candidates as (
    select s.workload, s.model, sum(s.eval_requests) as n, sum(s.eval_score_sum) / sum(s.eval_requests) as mean
    from scored as s
    join {{ ref('int_workload_profile') }} as p on p.workload = s.workload
    where s.is_shadow and s.model <> p.model_now
    group by s.workload, s.model
)

select
    c.workload,
    c.model,
    cast(c.n as bigint) as eval_n,
    c.mean as eval_mean,
    cast(b.n as bigint) as baseline_n,
    b.mean as baseline_mean,
    c.mean / nullif(b.mean, 0) - 1 as eval_gap
from candidates as c
left join baseline as b on b.workload = c.workload
