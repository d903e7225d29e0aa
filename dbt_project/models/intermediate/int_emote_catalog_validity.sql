{{ config(tags=['hourly_intermediate']) }}

-- Each snapshot of an emote set is valid until the next snapshot of the same set.
-- The earliest snapshot also covers the time before it: the best knowledge there is.
with snapshots as (
    select distinct
        snapshot_date,
        provider,
        scope,
        channel
    from {{ ref('stg_raw__emote_catalog_snapshots') }}
),

validity as (
    select
        snapshot_date,
        provider,
        scope,
        channel,
        case
            when lag(snapshot_date) over set_history is null then '-infinity'::timestamptz
            else snapshot_date::timestamp at time zone 'UTC'
        end as valid_from,
        coalesce(
            lead(snapshot_date) over set_history::timestamp at time zone 'UTC',
            'infinity'::timestamptz
        ) as valid_to
    from snapshots
    window set_history as (partition by provider, scope, channel order by snapshot_date)
)

select
    emotes.provider,
    emotes.scope,
    emotes.channel,
    emotes.emote_id,
    emotes.emote_code,
    validity.valid_from,
    validity.valid_to
from {{ ref('stg_raw__emote_catalog_snapshots') }} as emotes
inner join validity
    on
        emotes.snapshot_date = validity.snapshot_date
        and emotes.provider = validity.provider
        and emotes.scope = validity.scope
        and emotes.channel = validity.channel
