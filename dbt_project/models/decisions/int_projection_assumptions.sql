-- The assumptions in force at the projection date (the day after the newest landed day), one row, with the
-- source and effective date of each (tw_assumptions).
select *
from tw_assumptions(
    '{{ ref("projection_assumptions") }}',
    '{{ ref("selfhost_assumptions") }}',
    (select coalesce(max(day) + 1, current_date) from {{ ref('workload_daily') }})::timestamp
)
