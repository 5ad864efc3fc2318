{#-
  Exact money arithmetic. Money is DECIMAL(38,12). DuckDB turns DECIMAL / DECIMAL into a DOUBLE, so
  tierwise never divides money with `/`: it scales to integer units of 1e-12 USD (HUGEINT), divides
  with integer division rounding half up, and scales back. Products of money and integers stay exact.
-#}

{% macro tw_money(expr) -%}
  cast({{ expr }} as decimal(38, 12))
{%- endmacro %}

{% macro tw_units(expr) -%}
  {#- A non-negative DECIMAL(38,12) amount as an integer count of 1e-12 units. -#}
  cast(cast({{ expr }} as decimal(38, 12)) * 1000000000000 as hugeint)
{%- endmacro %}

{% macro tw_units_div(numerator_units, denominator) -%}
  {#- round_half_up(numerator_units / denominator) units, back as DECIMAL(38,12). Both non-negative, denominator > 0. -#}
  cast(
    cast(((cast({{ numerator_units }} as hugeint) * 2 + cast({{ denominator }} as hugeint))
          // (cast({{ denominator }} as hugeint) * 2)) as decimal(38, 0))
    * cast(0.000000000001 as decimal(38, 12))
  as decimal(38, 12))
{%- endmacro %}

{% macro tw_share_piece(total, weight, weight_total) -%}
  {#- total x weight / weight_total, rounded half up to 1e-12; the caller fixes the remainder. -#}
  {{ tw_units_div(tw_units(total) ~ ' * cast(' ~ weight ~ ' as hugeint)', weight_total) }}
{%- endmacro %}

{% macro tw_share_fixed(piece, total, rank, window) -%}
  {#-
    Largest-share-takes-the-remainder: every share keeps its rounded piece except rank 1 (the largest
    weight), which gets total minus the others, so the shares add up to the total exactly.
  -#}
  case when {{ rank }} = 1
       then {{ tw_money(total) }} - (sum({{ piece }}) over {{ window }} - {{ piece }})
       else {{ piece }} end
{%- endmacro %}
