-- Messages per channel, ISO weekday (1 = Monday) and UTC hour of day.
select
    channel,
    extract(isodow from window_start_at at time zone 'UTC')::int as weekday,
    extract(hour from window_start_at at time zone 'UTC')::int as hour,
    sum(message_count) as message_count
from marts.fct_chat_windows
where window_seconds = 300
group by 1, 2, 3
order by 1, 2, 3
