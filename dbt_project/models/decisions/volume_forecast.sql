-- Each workload's weekly trend and when it crosses its next break-even or volume band (tw_volume_forecast).
select *
from tw_volume_forecast(
    '{{ ref("int_workload_weekly") }}',
    '{{ ref("tier_projection") }}',
    '{{ ref("int_projection_assumptions") }}'
)
