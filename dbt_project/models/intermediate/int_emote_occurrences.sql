{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_partition_window('sent_at') }}"],
        tags=['hourly_intermediate'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
        indexes=[
            {'columns': ['channel', 'sent_at']},
            {'columns': ['sent_at']},
            {'columns': ['chat_event_key']},
        ],
    )
}}

-- Native emotes come from their positions; third-party emotes are whitespace tokens matched
-- exactly (case-sensitive) against the channel's and the global sets valid at the message time.
with messages as (
    select
        chat_event_key,
        channel,
        sent_at,
        user_login,
        body,
        emotes
    from {{ ref('stg_raw__chat_events') }}
    where event_type = 'message' and {{ in_partition_window('sent_at') }}
),

native as (
    select
        messages.chat_event_key,
        messages.channel,
        messages.sent_at,
        messages.user_login,
        'twitch' as provider,
        emote.value ->> 'id' as emote_id,
        emote.value ->> 'code' as emote_code,
        'n' || (emote.value ->> 'start') as occurrence_position
    from messages
    cross join lateral jsonb_array_elements(messages.emotes) as emote (value)
),

tokens as (
    select
        messages.chat_event_key,
        messages.channel,
        messages.sent_at,
        messages.user_login,
        token.token_text,
        token.token_index
    from messages
    cross join
        lateral
        unnest(string_to_array(messages.body, ' ')) with ordinality
            as token (token_text, token_index)
    where token.token_text <> ''
),

third_party as (
    select distinct on (tokens.chat_event_key, tokens.token_index)
        tokens.chat_event_key,
        tokens.channel,
        tokens.sent_at,
        tokens.user_login,
        catalog.provider,
        catalog.emote_id,
        catalog.emote_code,
        't' || tokens.token_index as occurrence_position
    from tokens
    inner join {{ ref('int_emote_catalog_validity') }} as catalog
        on
            tokens.token_text = catalog.emote_code
            and (tokens.channel = catalog.channel or catalog.scope = 'global')
            and tokens.sent_at >= catalog.valid_from
            and tokens.sent_at < catalog.valid_to
    where
        not exists (
            select 1
            from native
            where
                native.chat_event_key = tokens.chat_event_key
                and native.emote_code = tokens.token_text
        )
    -- A channel's own emote wins over a global one with the same code.
    order by
        tokens.chat_event_key,
        tokens.token_index,
        case catalog.scope when 'channel' then 0 else 1 end,
        catalog.provider
),

occurrences as (
    select * from native
    union all
    select * from third_party
)

select
    chat_event_key || ':' || occurrence_position as emote_occurrence_key,
    chat_event_key,
    channel,
    sent_at,
    user_login,
    provider,
    emote_id,
    emote_code
from occurrences
