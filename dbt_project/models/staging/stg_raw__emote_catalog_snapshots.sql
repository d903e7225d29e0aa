{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'emote_catalog_snapshots') }}
)

select
    snapshot_date,
    provider,
    scope,
    channel,
    emote_id,
    code as emote_code
from source
