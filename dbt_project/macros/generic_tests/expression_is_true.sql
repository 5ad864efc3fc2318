{#- Fails on every row where `expression` is not true (NULL counts as a failure). -#}
{% test tierwise_expression_is_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
