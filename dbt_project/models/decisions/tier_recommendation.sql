-- Per workload: the recommended tier and model, the monthly savings, and the rules that fired (tw_tier_recommendation).
select *
from tw_tier_recommendation(
    '{{ ref("tier_projection") }}',
    '{{ ref("volume_forecast") }}',
    '{{ ref("int_projection_assumptions") }}'
)
