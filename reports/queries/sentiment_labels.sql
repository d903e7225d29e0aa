-- Messages per channel and sentiment label (null while the ML asset has not scored them).
select
    channel,
    coalesce(sentiment_label, 'unscored') as sentiment_label,
    count(*) as message_count
from marts.fct_chat_messages
group by channel, coalesce(sentiment_label, 'unscored')
order by channel, sentiment_label
