{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'helix_badges') }}
),

renamed as (
    select
        scope || ':' || broadcaster_id || ':' || set_id || '/' || version_id as badge_key,
        scope,
        nullif(broadcaster_id, '') as channel_id,
        set_id as badge_set_id,
        version_id as badge_version_id,
        title as badge_title,
        description as badge_description,
        image_url_1x,
        fetched_at
    from source
)

select * from renamed
