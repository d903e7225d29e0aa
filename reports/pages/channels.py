"""Channel pages (one per channel) and stream pages (one per stream in fct_streams)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reports import charts
from reports.data import ReportData
from reports.frames import records, rows, where
from reports.site import Site, channel_slug, fmt_ts


def _deciles(value: Any) -> list[float]:
    if isinstance(value, str):
        value = json.loads(value)
    return [float(v) for v in value] if isinstance(value, list) else []


class ByKey:
    """A frame indexed once by a key column: a lookup takes its rows by position, no scan.

    Only the row positions are kept per key; frames are cut for the keys that are looked up
    (streams with a page), not for the whole history.
    """

    def __init__(self, df: pd.DataFrame, key: str) -> None:
        self._df = df
        self._positions: dict[Any, Any] = df.groupby(key, sort=False).indices

    def __getitem__(self, value: Any) -> pd.DataFrame:
        positions = self._positions.get(value)
        return self._df.iloc[0:0] if positions is None else self._df.iloc[positions]


@dataclass
class StreamData:
    """The report's per-stream frames, split once for every stream page."""

    windows: ByKey
    bursts: ByKey
    moderation: ByKey
    topics: ByKey
    burst_messages: ByKey
    hype: ByKey  # by channel

    @classmethod
    def split(cls, data: ReportData) -> StreamData:
        return cls(
            windows=ByKey(data.stream_windows, "stream_id"),
            bursts=ByKey(data.bursts, "stream_id"),
            moderation=ByKey(data.moderation, "stream_id"),
            topics=ByKey(data.topics, "stream_id"),
            burst_messages=ByKey(data.burst_messages, "burst_id"),
            hype=ByKey(data.hype, "channel"),
        )


@dataclass
class ChannelData:
    """The report's per-channel frames, split once for every channel page (a scan per page of
    every frame grows with channels squared)."""

    windows: ByKey
    emote_totals: ByKey
    sentiment: ByKey
    stream_segments: ByKey
    top_chatters: ByKey
    streams: ByKey

    @classmethod
    def split(cls, data: ReportData, streams: pd.DataFrame) -> ChannelData:
        return cls(
            windows=ByKey(data.windows, "channel"),
            emote_totals=ByKey(data.emote_totals, "channel"),
            sentiment=ByKey(data.sentiment, "channel"),
            stream_segments=ByKey(data.stream_segments, "channel"),
            top_chatters=ByKey(data.top_chatters, "channel"),
            streams=ByKey(streams, "channel"),
        )


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    streams = data.streams.copy()
    streams["href"] = [site.stream_pages.get(str(sid)) for sid in streams["stream_id"]]
    per_stream = StreamData.split(data)
    per_channel = ChannelData.split(data, streams)
    for info in records(data.channels):
        channel = str(info["channel"])
        own = per_channel.streams[channel]
        _channel_page(site, per_channel, channel, info, own)
        usual = _usual_shape(own)
        for stream in records(rows(own, own["href"].notna())):  # the streams that get a page
            _stream_page(site, per_stream, stream, usual, colors)


def _usual_shape(streams: pd.DataFrame) -> list[float]:
    shapes = [d for d in (_deciles(v) for v in streams["activity_deciles"]) if len(d) == 10]
    if not shapes:
        return []
    return [sum(col) / len(shapes) for col in zip(*shapes, strict=True)]


def _channel_page(
    site: Site, data: ChannelData, channel: str, info: dict[str, Any], streams: pd.DataFrame
) -> None:
    windows = data.windows[channel]
    emotes = data.emote_totals[channel]
    stream_rows = records(streams.sort_values("started_at", ascending=False))
    for row in stream_rows:
        row["href"] = "../" + row["href"] if isinstance(row["href"], str) else None
    site.write(
        f"channels/{channel_slug(channel)}.html",
        "channel.html",
        title=f"#{channel}",
        channel=channel,
        info=info,
        stream_rows=stream_rows,
        top_chatters=records(data.top_chatters[channel]),
        filters={"channel": False, "dates": True},
        activity_chart=charts.render(
            charts.volume_and_chatters(windows, channel), "activity", timeseries=True
        ),
        sentiment_chart=charts.render(
            charts.sentiment_pie(data.sentiment[channel], channel),
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
            charts.segments_by_stream(data.stream_segments[channel], channel),
            "segments",
        ),
    )


def _stream_page(
    site: Site, data: StreamData, stream: dict[str, Any], usual: list[float], colors: dict[str, str]
) -> None:
    channel, stream_id = str(stream["channel"]), stream["stream_id"]
    start, end = stream["started_at"], stream["ended_at"]
    windows = data.windows[stream_id]
    bursts = data.bursts[stream_id]
    moderation = data.moderation[stream_id]
    channel_hype = data.hype[channel]
    minute = channel_hype["predicted_minute_start_at"]
    hype = rows(channel_hype, (minute >= start) & (minute < end))
    topics = data.topics[stream_id]
    burst_rows = []
    for burst in records(bursts.sort_values(by="peak_at")):
        messages = data.burst_messages[burst["burst_id"]]
        burst_rows.append({**burst, "messages": records(messages)})
    site.write(
        stream["href"],
        "stream.html",
        title=f"#{channel} · {fmt_ts(start)}",
        channel=channel,
        channel_href=f"../channels/{channel_slug(channel)}.html",
        stream=stream,
        bursts=burst_rows,
        moderation_rows=records(moderation),
        topic_rows=records(where(topics, "topic_rank", 1)),
        filters={"channel": False, "dates": False, "window": True},
        timeline_chart=charts.render(
            charts.stream_timeline(
                windows,
                bursts=bursts,
                moderation=moderation,
                hype=hype,
                title="Stream timeline: message rate, sentiment and toxicity",
                span=(start, end),
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
