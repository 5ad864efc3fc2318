{#-
  tierwise's provider id, the one the price catalog is keyed on: the same rule as canonical_provider() in
  ingest/adapters/providers.py. The id is trimmed and lower-cased, then another tool's spelling (gemini,
  together_ai, fireworks_ai...) is folded into tierwise's (google, together, fireworks) through the
  provider_aliases seed, which is generated from the adapters' PROVIDER_ALIASES. Adapter-built events
  already carry tierwise's ids; this catches events written by hand or by other producers and price rows
  imported before the importer renamed providers. Raw tables keep what was sent.

  Use both macros with the same table alias:
      select {{ tw_canonical_provider('ev.provider') }} as provider ...
      from ... as ev
      {{ tw_join_provider_aliases('ev.provider') }}
  The join cannot duplicate rows: provider_aliases.alias is unique (a seed test).
-#}
{% macro tw_canonical_provider(column, aliases='pa') -%}
coalesce({{ aliases }}.canonical, lower(trim({{ column }})))
{%- endmacro %}

{% macro tw_join_provider_aliases(column, aliases='pa') -%}
left join {{ ref('provider_aliases') }} as {{ aliases }}
  on {{ aliases }}.alias = lower(trim({{ column }}))
{%- endmacro %}
