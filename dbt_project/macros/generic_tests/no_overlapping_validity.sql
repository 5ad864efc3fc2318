{#-
  Effective-dated rows of one key must not overlap: [valid_from, valid_to) with NULL valid_to open-ended.
  Two rows in force at the same instant would make a price lookup ambiguous.
-#}
{% test tierwise_no_overlapping_validity(model, partition_by, from_column='valid_from', to_column='valid_to') %}
select a.*
from {{ model }} as a
join {{ model }} as b
  on a.{{ from_column }} < b.{{ from_column }}
  {%- for col in partition_by %}
  and a.{{ col }} = b.{{ col }}
  {%- endfor %}
where a.{{ to_column }} is null or a.{{ to_column }} > b.{{ from_column }}
{% endtest %}
