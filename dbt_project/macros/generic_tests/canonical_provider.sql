{#-
  Fails on every provider id that is not tierwise's spelling: not trimmed and lower-case, or an alias
  listed in provider_aliases. Staging folds aliases, so a seed row under `together_ai` would still price
  `together` events, but it would sit beside a `together` row unseen by the overlap test (keyed on the
  spelling) and make the price lookup ambiguous.
-#}
{% test tierwise_canonical_provider(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} <> lower(trim({{ column_name }}))
   or {{ column_name }} in (select alias from {{ ref('provider_aliases') }})
{% endtest %}
