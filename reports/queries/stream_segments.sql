-- Chatters per stream and in-stream segment: how a channel's crowd changes stream to stream.
select
    a.stream_id,
    a.channel,
    s.started_at,
    coalesce(a.stream_segment, 'unsegmented') as segment,
    count(*) as chatter_count
from marts.fct_chatter_stream_activity as a
inner join marts.fct_streams as s on a.stream_id = s.stream_id
group by 1, 2, 3, 4
order by 2, 3, 4
