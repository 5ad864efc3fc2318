-- Hourly GPU prices by type, effective-dated.
select gpu_type, valid_from, valid_to, hourly_price_usd
from {{ ref('gpu_prices') }}
