-- The chat around each burst's peak minute: up to 12 messages per burst, those with the
-- burst's emote (as a whole token: "Pog" is not "PogChamp") first. Authors are pseudonymized
-- and opt-outs dropped in Python.
select
    burst_id,
    sent_at,
    user_login,
    body,
    sentiment_label,
    is_toxic
from (
    select
        b.burst_id,
        m.sent_at,
        m.user_login,
        m.body,
        m.sentiment_label,
        m.is_toxic,
        row_number() over (
            partition by b.burst_id
            order by b.emote_code = any(string_to_array(m.body, ' ')) desc, m.sent_at
        ) as n
    from marts.fct_emote_bursts as b
    inner join marts.fct_chat_messages as m
        on
            b.channel = m.channel
            and m.sent_at >= b.peak_at
            and m.sent_at < b.peak_at + interval '1 minute'
) as ranked
where n <= 12
order by burst_id, sent_at
