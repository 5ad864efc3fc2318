-- Every way a catalogued model can be served, priced at the projection date (tw_candidate_options): API price
-- rows in force and self-hosted GPU x engine x quantization combinations, each with what it cannot be costed for.
select *
from tw_candidate_options(
    '{{ ref("stg_model_prices") }}',
    '{{ ref("model_catalog") }}',
    '{{ ref("stg_model_licenses") }}',
    '{{ ref("gpu_throughput") }}',
    '{{ ref("gpu_prices") }}',
    (select as_of from {{ ref('int_projection_assumptions') }})
)
