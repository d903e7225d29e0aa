{#-
    First pre-hook of the incremental models: runs that write one model at once (a backfill
    beside the schedule) take turns until commit. The second run's window delete then sees the
    first run's rows, instead of both runs' rows staying.
-#}
{% macro serialize_writes() -%}
    select pg_advisory_xact_lock(hashtext('{{ this }}'))
{%- endmacro %}
