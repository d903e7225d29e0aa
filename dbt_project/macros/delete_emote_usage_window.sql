{#- Replace the partition's minute rows and the day rows of every day the partition touches. -#}
{% macro delete_emote_usage_window() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            (window_seconds = 60 and {{ in_partition_window('window_start_at') }})
            or (window_seconds = 86400 and {{ in_partition_days('window_start_at') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
