{{ config(tags=['daily_marts']) }}

-- A channel's chat signature: how its chat writes (length, emotes, sentiment, toxicity,
-- vocabulary), which emotes it uses, and when it is active.
with messages as (
    select * from {{ ref('fct_chat_messages') }}
),

basics as (
    select
        channel,
        count(*) as message_count,
        count(distinct user_login) as chatter_count,
        avg(body_length)::double precision as mean_message_length,
        avg(case when emote_count > 0 then 1.0 else 0.0 end)::double precision
            as emote_message_share,
        avg(sentiment_score)::double precision as mean_sentiment,
        avg(case when is_toxic then 1.0 when is_toxic is not null then 0.0 end)::double precision
            as toxicity_rate
    from messages
    group by channel
),

vocabulary as (
    select
        messages.channel,
        count(distinct lower(token.token_text)) as vocabulary_size
    from messages
    cross join lateral unnest(string_to_array(messages.body, ' ')) as token (token_text)
    where token.token_text <> ''
    group by messages.channel
),

emote_ranks as (
    select
        channel,
        emote_code,
        provider,
        share_of_emote_uses,
        row_number() over (partition by channel order by uses desc, emote_code asc) as emote_rank
    from (
        select
            channel,
            emote_code,
            min(provider) as provider,
            sum(use_count) as uses,
            sum(use_count)::double precision
            / sum(sum(use_count)) over (partition by channel) as share_of_emote_uses
        from {{ ref('fct_emote_usage') }}
        where window_seconds = 86400
        group by channel, emote_code
    ) as totals
),

top_emotes as (
    select
        channel,
        jsonb_agg(
            jsonb_build_object(
                'emote',
                emote_code,
                'provider',
                provider,
                'share',
                round(share_of_emote_uses::numeric, 4)
            )
            order by emote_rank
        ) as top_emotes
    from emote_ranks
    where emote_rank <= 10
    group by channel
),

hours as (
    select
        channel,
        extract(hour from sent_at at time zone 'UTC')::integer as hour_of_day,
        count(*) as message_count
    from messages
    group by channel, hour_of_day
),

activity_by_hour as (
    select
        basics.channel,
        jsonb_agg(
            round(coalesce(hours.message_count, 0)::numeric / basics.message_count, 4)
            order by all_hours.hour_of_day
        ) as activity_by_hour
    from basics
    cross join generate_series(0, 23) as all_hours (hour_of_day)
    left join hours
        on basics.channel = hours.channel and all_hours.hour_of_day = hours.hour_of_day
    group by basics.channel
)

select
    basics.channel,
    basics.message_count,
    basics.chatter_count,
    basics.mean_message_length,
    basics.emote_message_share,
    basics.mean_sentiment,
    basics.toxicity_rate,
    coalesce(vocabulary.vocabulary_size, 0)::bigint as vocabulary_size,
    coalesce(top_emotes.top_emotes, '[]'::jsonb) as top_emotes,
    activity_by_hour.activity_by_hour
from basics
left join vocabulary on basics.channel = vocabulary.channel
left join top_emotes on basics.channel = top_emotes.channel
left join activity_by_hour on basics.channel = activity_by_hour.channel
