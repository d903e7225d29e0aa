{#-
    First pre-hook of every model (dbt_project.yml): `twitch-warehouse forget` erases a chatter
    under the exclusive form of this lock, so a model reads and writes either wholly before an
    erasure or wholly after it, never writing back rows it read before (`twitch_warehouse.privacy`).
-#}
{% macro hold_off_erasure() -%}
    select pg_advisory_xact_lock_shared(hashtext('twitch_warehouse.erasure'))
{%- endmacro %}
