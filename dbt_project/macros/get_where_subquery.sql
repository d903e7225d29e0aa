{#-
    Overrides dbt's test filter so the tests of a window-replacing model check only the
    partition window being built: an hourly run then costs the same whatever the history.
    A model opts in with `meta: {partition_window: {column: ..., grain: hour|day}}`; without
    window vars (a full build) every test still reads the whole relation.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do filters.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set window = tested_model_partition_window() -%}
    {%- if window -%}
        {%- if window.get('grain', 'hour') == 'day' -%}
            {%- do filters.append(in_partition_days(window['column'])) -%}
        {%- else -%}
            {%- do filters.append(in_partition_window(window['column'])) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The `partition_window` meta of the model a generic test is attached to, when a window is set. -#}
{% macro tested_model_partition_window() -%}
    {%- if not execute or var('window_start') is none or var('window_end') is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- if node is none -%}{%- do return(none) -%}{%- endif -%}
    {%- do return(node.get('config', {}).get('meta', {}).get('partition_window')) -%}
{%- endmacro %}
