-- License facts per model from the reference article.
select model, family, publisher, license, commercial_use, weights_available, eu_restricted, mau_limit, restrictions
from {{ ref('model_licenses') }}
