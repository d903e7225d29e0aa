{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'helix_videos') }}
),

renamed as (
    select
        video_id,
        user_id as channel_id,
        lower(user_login) as channel,
        title,
        video_type,
        created_at,
        published_at,
        duration_seconds,
        view_count,
        stream_id as helix_stream_id,
        language,
        fetched_at
    from source
)

select * from renamed
