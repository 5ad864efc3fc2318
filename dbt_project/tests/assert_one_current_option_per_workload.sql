-- Every projected workload has exactly one row for what it runs today, and tier_recommendation one row per
-- projected workload.
select workload, count(*) filter (where is_current) as current_rows
from {{ ref('tier_projection') }}
group by workload
having count(*) filter (where is_current) <> 1
union all
select p.workload, 0
from (select distinct workload from {{ ref('tier_projection') }}) as p
left join {{ ref('tier_recommendation') }} as r on r.workload = p.workload
where r.workload is null
