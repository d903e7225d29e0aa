-- Uses per 5 minutes of each channel's six most used emotes.
with top_emotes as (
    select channel, emote_code
    from (
        select
            channel,
            emote_code,
            row_number() over (
                partition by channel order by sum(use_count) desc, emote_code
            ) as n
        from marts.fct_emote_usage
        where window_seconds = 86400
        group by channel, emote_code
    ) as ranked
    where n <= 6
)

select
    u.channel,
    u.emote_code,
    date_bin('5 minutes', u.window_start_at, timestamptz '2000-01-01 00:00:00+00') as bucket_at,
    sum(u.use_count) as use_count
from marts.fct_emote_usage as u
inner join top_emotes as t on u.channel = t.channel and u.emote_code = t.emote_code
where u.window_seconds = 60
group by 1, 2, 3
order by 1, 2, 3
