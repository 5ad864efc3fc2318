-- What each workload would cost on every tier it could move to, at today's volume (tw_tier_projection).
select *
from tw_tier_projection(
    '{{ ref("int_workload_profile") }}',
    '{{ ref("int_candidate_options") }}',
    '{{ ref("int_workload_evals") }}',
    '{{ ref("int_workload_latency") }}',
    '{{ ref("int_projection_assumptions") }}'
)
