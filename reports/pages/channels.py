"""Channel pages (one per channel) and stream pages (one per stream in fct_streams)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from reports import charts
from reports.data import ReportData
from reports.site import Site, channel_slug, stream_slug


def _deciles(value: Any) -> list[float]:
    if isinstance(value, str):
        value = json.loads(value)
    return [float(v) for v in value] if isinstance(value, list) else []


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    streams = data.streams.copy()
    streams["href"] = [
        f"streams/{stream_slug(str(r.channel), r.started_at)}.html" for r in streams.itertuples()
    ]
    for info in data.channels.to_dict("records"):
        channel = str(info["channel"])
        own = streams[streams["channel"] == channel]
        _channel_page(site, data, channel, info, own)
        usual = _usual_shape(own)
        for stream in own.to_dict("records"):
            _stream_page(site, data, stream, usual, colors)


def _usual_shape(streams: pd.DataFrame) -> list[float]:
    shapes = [d for d in (_deciles(v) for v in streams["activity_deciles"]) if len(d) == 10]
    if not shapes:
        return []
    return [sum(col) / len(shapes) for col in zip(*shapes, strict=True)]


def _channel_page(
    site: Site, data: ReportData, channel: str, info: dict[str, Any], streams: pd.DataFrame
) -> None:
    windows = data.windows[data.windows["channel"] == channel]
    emotes = data.emote_totals[data.emote_totals["channel"] == channel]
    stream_rows = streams.sort_values("started_at", ascending=False).to_dict("records")
    for row in stream_rows:
        row["href"] = "../" + row["href"]
    site.write(
        f"channels/{channel_slug(channel)}.html",
        "channel.html",
        title=f"#{channel}",
        channel=channel,
        info=info,
        stream_rows=stream_rows,
        top_chatters=data.top_chatters[data.top_chatters["channel"] == channel].to_dict("records"),
        filters={"channel": False, "dates": True},
        activity_chart=charts.render(
            charts.volume_and_chatters(windows, channel), "activity", timeseries=True
        ),
        sentiment_chart=charts.render(
            charts.sentiment_pie(data.sentiment[data.sentiment["channel"] == channel], channel),
            "sentiment",
        ),
        trend_chart=charts.render(
            charts.sentiment_trend(windows, channel), "sentiment-trend", timeseries=True
        ),
        emotes_chart=charts.render(
            charts.top_emotes(emotes, f"#{charts.esc(channel)}: top emotes by provider"),
            "top-emotes",
        ),
        segments_chart=charts.render(
            charts.segments_by_stream(
                data.stream_segments[data.stream_segments["channel"] == channel], channel
            ),
            "segments",
        ),
    )


def _stream_page(
    site: Site, data: ReportData, stream: dict[str, Any], usual: list[float], colors: dict[str, str]
) -> None:
    channel, stream_id = str(stream["channel"]), stream["stream_id"]
    start, end = stream["started_at"], stream["ended_at"]
    windows = data.stream_windows[data.stream_windows["stream_id"] == stream_id]
    bursts = data.bursts[data.bursts["stream_id"] == stream_id]
    moderation = data.moderation[data.moderation["stream_id"] == stream_id]
    hype = data.hype[
        (data.hype["channel"] == channel)
        & (data.hype["predicted_minute_start_at"] >= start)
        & (data.hype["predicted_minute_start_at"] < end)
    ]
    topics = data.topics[data.topics["stream_id"] == stream_id]
    burst_rows = []
    for burst in bursts.sort_values("peak_at").to_dict("records"):
        messages = data.burst_messages[data.burst_messages["burst_id"] == burst["burst_id"]]
        burst_rows.append({**burst, "messages": messages.to_dict("records")})
    started = pd.Timestamp(start).strftime("%Y-%m-%d %H:%M")
    site.write(
        stream["href"],
        "stream.html",
        title=f"#{channel} · {started} UTC",
        channel=channel,
        channel_href=f"../channels/{channel_slug(channel)}.html",
        stream=stream,
        bursts=burst_rows,
        moderation_rows=moderation.to_dict("records"),
        topic_rows=topics[topics["topic_rank"] == 1].to_dict("records"),
        filters={"channel": False, "dates": False, "window": True},
        timeline_chart=charts.render(
            charts.stream_timeline(
                windows,
                bursts=bursts,
                moderation=moderation,
                hype=hype,
                title="Stream timeline: message rate, sentiment and toxicity",
            ),
            "timeline",
            tall=True,
        ),
        shape_chart=charts.render(
            charts.stream_shape(
                _deciles(stream["activity_deciles"]), usual, channel, stream["stream_pattern"]
            ),
            "shape",
        ),
        topics_chart=charts.render(charts.stream_topics(topics), "topics"),
    )
