-- A channel's stream sessions never overlap: a message belongs to one stream at most.
{{ config(tags=['daily_intermediate']) }}

select
    earlier.stream_id,
    later.stream_id as overlapping_stream_id
from {{ ref('int_stream_sessions') }} as earlier
inner join {{ ref('int_stream_sessions') }} as later
    on
        earlier.channel = later.channel
        and earlier.stream_id < later.stream_id
        and earlier.started_at < later.ended_at
        and earlier.ended_at > later.started_at
