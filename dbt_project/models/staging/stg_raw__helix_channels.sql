{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'helix_channels') }}
),

renamed as (
    select
        broadcaster_id as channel_id,
        lower(broadcaster_login) as channel,
        broadcaster_name as display_name,
        broadcaster_language,
        game_id,
        game_name,
        title,
        tags,
        fetched_at
    from source
)

select * from renamed
