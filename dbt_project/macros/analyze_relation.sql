{#- Fresh statistics after every table write: without them the planner guesses a handful of rows
    for a just-loaded window and picks nested loops that run for minutes instead of milliseconds. -#}
{% macro analyze_relation() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
