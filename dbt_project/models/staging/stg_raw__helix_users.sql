{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'helix_users') }}
),

renamed as (
    select
        user_id,
        lower(login) as user_login,
        display_name,
        -- Helix sends '' for a broadcaster in neither program.
        case broadcaster_type when '' then 'normal' else broadcaster_type end
            as broadcaster_type,
        nullif(description, '') as user_description,
        created_at as user_created_at,
        profile_image_url,
        fetched_at
    from source
)

select * from renamed
