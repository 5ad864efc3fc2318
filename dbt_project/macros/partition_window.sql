{#-
  Daily partition window. Dagster's daily partitions run dbt with
    --vars '{"start_date": "2026-04-01", "end_date": "2026-04-02"}'
  start_date is inclusive, end_date exclusive, both UTC days. Incremental models then rebuild exactly
  the days in [start_date, end_date): a pre-hook deletes those days and the model re-inserts them, so a
  day that lost its rows is emptied too. Without the vars every incremental model rebuilds all days.
-#}

{% macro tw_parse_day(name) %}
  {%- set raw = var(name, none) -%}
  {%- if raw is none or (raw | string | trim) == '' -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set text = raw | string | trim -%}
  {#- Accept a plain ISO date, or an ISO datetime at UTC midnight (what a partition key may look like). -#}
  {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}([T ]00:00(:00(\.0+)?)?(Z|[+]00:?00)?)?$', text) -%}
    {{ exceptions.raise_compiler_error("var " ~ name ~ "=" ~ text ~ " is not an ISO date (YYYY-MM-DD)") }}
  {%- endif -%}
  {{ return(modules.datetime.date.fromisoformat(text[:10])) }}
{% endmacro %}

{% macro tw_window() %}
  {#- Returns none (rebuild everything) or a dict with start/end dates. -#}
  {%- set start = tw_parse_day('start_date') -%}
  {%- set end = tw_parse_day('end_date') -%}
  {%- if start is none and end is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if start is none or end is none -%}
    {{ exceptions.raise_compiler_error("pass both start_date (inclusive) and end_date (exclusive), or neither") }}
  {%- endif -%}
  {%- if end <= start -%}
    {{ exceptions.raise_compiler_error("end_date " ~ end ~ " must be after start_date " ~ start ~ " (end is exclusive)") }}
  {%- endif -%}
  {{ return({'start': start, 'end': end}) }}
{% endmacro %}

{% macro tw_in_window(column, kind='date') %}
  {#- Predicate keeping rows of the window; `true` without vars. kind: date or timestamp. -#}
  {%- set w = tw_window() -%}
  {%- if w is none -%}
    true
  {%- else -%}
    ({{ column }} >= {{ kind }} '{{ w.start }}' and {{ column }} < {{ kind }} '{{ w.end }}')
  {%- endif -%}
{% endmacro %}

{% macro tw_overlaps_window(start_column, end_column) %}
  {#- Predicate keeping [start, end) intervals that overlap the window's days. -#}
  {%- set w = tw_window() -%}
  {%- if w is none -%}
    true
  {%- else -%}
    ({{ start_column }} < timestamp '{{ w.end }}' and {{ end_column }} > timestamp '{{ w.start }}')
  {%- endif -%}
{% endmacro %}

{% macro tw_month_window_bounds() %}
  {#- The months touched by the window: [first day of start's month, first day after end-1's month). -#}
  {%- set w = tw_window() -%}
  {%- if w is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set first = w.start.replace(day=1) -%}
  {%- set last_day = w.end - modules.datetime.timedelta(days=1) -%}
  {%- if last_day.month == 12 -%}
    {%- set after = modules.datetime.date(last_day.year + 1, 1, 1) -%}
  {%- else -%}
    {%- set after = modules.datetime.date(last_day.year, last_day.month + 1, 1) -%}
  {%- endif -%}
  {{ return({'start': first, 'end': after}) }}
{% endmacro %}

{% macro tw_in_month_window(column) %}
  {%- set w = tw_month_window_bounds() -%}
  {%- if w is none -%}
    true
  {%- else -%}
    ({{ column }} >= date '{{ w.start }}' and {{ column }} < date '{{ w.end }}')
  {%- endif -%}
{% endmacro %}

{% macro tw_replace_window(column, monthly=false) %}
  {#-
    Pre-hook of every daily incremental model: delete the days (or months) being rebuilt, so
    delete+insert replaces exactly the window even where a day now has no rows. On the first run the
    table does not exist yet and there is nothing to delete.
  -#}
  {%- if is_incremental() -%}
    delete from {{ this }} where {{ tw_in_month_window(column) if monthly else tw_in_window(column) }}
  {%- else -%}
    select 1
  {%- endif -%}
{% endmacro %}
