-- Self-hosted attribution must hand out each deployment-hour's cost exactly: the workload rows plus the
-- idle row of an hour add up to its GPU + ops cost, to the last 1e-12. Returns the hours that do not.
with attributed as (
    select deployment, hour_start, sum(gpu_cost_usd) as gpu, sum(ops_cost_usd) as ops
    from {{ ref('int_selfhost_attribution') }}
    group by deployment, hour_start
)
select h.deployment, h.hour_start, h.total_cost_usd, a.gpu, a.ops
from {{ ref('int_deployment_hours') }} as h
left join attributed as a
  on a.deployment = h.deployment and a.hour_start = h.hour_start
where a.deployment is null
   or a.gpu <> coalesce(h.gpu_cost_usd, 0)
   or a.ops <> h.ops_cost_usd
   or a.gpu + a.ops <> h.total_cost_usd
