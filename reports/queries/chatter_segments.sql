-- Chatters per channel and ML segment.
select
    channel,
    coalesce(segment, 'unsegmented') as segment,
    count(*) as chatter_count,
    sum(message_count) as message_count
from marts.dim_channel_chatters
group by 1, 2
order by 1, 2
