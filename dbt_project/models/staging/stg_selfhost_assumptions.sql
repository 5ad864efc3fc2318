-- Staff economics of self-hosting, effective-dated; annual_ops_cost_usd = ops_fte x loaded salary.
select
    valid_from,
    valid_to,
    ops_fte,
    loaded_salary_usd_per_year,
    {{ tw_money('ops_fte * loaded_salary_usd_per_year') }} as annual_ops_cost_usd,
    setup_fte,
    setup_months,
    min_gpus_per_deployment
from {{ ref('selfhost_assumptions') }}
