-- Loyalty and churn per stream: chatters new to the channel, returning from the previous
-- stream, returning from earlier streams, and the previous stream's chatters who did not return.
with streams as (
    select
        stream_id,
        channel,
        started_at,
        row_number() over (partition by channel order by started_at) as stream_no
    from marts.fct_streams
),

activity as (
    select distinct
        s.channel,
        s.stream_no,
        a.user_login
    from marts.fct_chatter_stream_activity as a
    inner join streams as s on a.stream_id = s.stream_id
),

first_stream as (
    select channel, user_login, min(stream_no) as first_no
    from activity
    group by 1, 2
),

per_stream as (
    select
        a.channel,
        a.stream_no,
        count(*) as chatter_count,
        count(*) filter (where f.first_no = a.stream_no) as new_count,
        count(p.user_login) as from_previous_count
    from activity as a
    inner join first_stream as f on a.channel = f.channel and a.user_login = f.user_login
    left join activity as p
        on
            a.channel = p.channel
            and a.user_login = p.user_login
            and p.stream_no = a.stream_no - 1
    group by 1, 2
)

select
    s.stream_id,
    s.channel,
    s.started_at,
    s.stream_no,
    coalesce(p.chatter_count, 0) as chatter_count,
    coalesce(p.new_count, 0) as new_count,
    coalesce(p.from_previous_count, 0) as from_previous_count,
    coalesce(p.chatter_count - p.new_count - p.from_previous_count, 0) as from_earlier_count,
    prev.chatter_count as previous_chatter_count,
    prev.chatter_count - coalesce(p.from_previous_count, 0) as churned_count
from streams as s
left join per_stream as p on s.channel = p.channel and s.stream_no = p.stream_no
left join per_stream as prev on s.channel = prev.channel and prev.stream_no = s.stream_no - 1
order by s.channel, s.started_at
