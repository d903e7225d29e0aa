{#-
    The Dagster partition window as a predicate on a timestamp column.
    With window vars set, only [window_start, window_end) is read and replaced;
    without them the whole history is (a full rebuild).
-#}
{% macro in_partition_window(column_name, extend_end=none) -%}
    {%- if var('window_start') is not none and var('window_end') is not none -%}
        ({{ column_name }} >= '{{ var("window_start") }}'::timestamptz
        and {{ column_name }} < '{{ var("window_end") }}'::timestamptz
        {%- if extend_end is not none %} + interval '{{ extend_end }}'{% endif %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of window-replacing incremental models: delete the window inside the model's transaction. -#}
{% macro delete_partition_window(column_name) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_partition_window(column_name) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Rows whose [start, end) interval overlaps the partition window (for spans like bursts). -#}
{% macro overlaps_partition_window(start_column, end_column) -%}
    {%- if var('window_start') is not none and var('window_end') is not none -%}
        ({{ end_column }} > '{{ var("window_start") }}'::timestamptz
        and {{ start_column }} < '{{ var("window_end") }}'::timestamptz)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The partition window widened to whole UTC days, for day-grain rows rebuilt with each hour. -#}
{% macro in_partition_days(column_name) -%}
    {%- if var('window_start') is not none and var('window_end') is not none -%}
        ({{ column_name }} >= date_trunc('day', '{{ var("window_start") }}'::timestamptz, 'UTC')
        and {{ column_name }} < date_trunc(
            'day', '{{ var("window_end") }}'::timestamptz - interval '1 microsecond', 'UTC'
        ) + interval '1 day')
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
