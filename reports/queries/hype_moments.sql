-- Minutes the hype model predicted (probability >= 0.5) with the label once known.
select
    channel,
    predicted_minute_start_at,
    hype_probability,
    is_hype_label
from marts.fct_hype_predictions
where hype_probability >= 0.5
order by channel, predicted_minute_start_at
