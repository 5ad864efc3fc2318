-- Monthly cost against tokens/day for the cheapest option of each tier, at each workload's own mix (tw_breakeven_curves).
select *
from tw_breakeven_curves(
    '{{ ref("tier_projection") }}',
    '{{ ref("int_workload_profile") }}',
    '{{ ref("int_candidate_options") }}',
    '{{ ref("int_projection_assumptions") }}'
)
