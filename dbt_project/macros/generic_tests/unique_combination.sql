{#- Fails on every combination of `columns` that appears more than once (NULLs compare equal). -#}
{% test tierwise_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
