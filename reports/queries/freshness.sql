-- When the data was last refreshed: last event and hours loaded per channel.
select
    c.channel,
    c.first_seen_at,
    c.last_seen_at,
    coalesce(h.hours_loaded, 0) as hours_loaded,
    h.first_hour_at,
    h.last_hour_at
from marts.dim_channels as c
left join (
    select
        channel,
        count(distinct date_trunc('hour', window_start_at, 'UTC')) as hours_loaded,
        min(date_trunc('hour', window_start_at, 'UTC')) as first_hour_at,
        max(date_trunc('hour', window_start_at, 'UTC')) as last_hour_at
    from marts.fct_chat_windows
    where window_seconds = 300
    group by channel
) as h on c.channel = h.channel
order by c.channel
