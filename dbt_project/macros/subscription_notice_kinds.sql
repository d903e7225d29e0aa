{#-
    USERNOTICE kinds that each stand for one subscription started or renewed. A community gift
    (`submysterygift`) announces the `subgift` notices that follow it, one per recipient, so it is
    not counted itself.
-#}
{% macro subscription_notice_kinds() -%}
    ('sub', 'resub', 'subgift', 'giftpaidupgrade', 'primepaidupgrade')
{%- endmacro %}
