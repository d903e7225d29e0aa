-- Topics per stream segment, strongest first.
select
    stream_id,
    channel,
    segment_start_at,
    segment_end_at,
    topic_rank,
    topic_label,
    topic_weight,
    shift_from_previous
from marts.fct_topics
order by stream_id, segment_start_at, topic_rank
