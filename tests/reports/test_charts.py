"""The chart figures as data: traces, lengths, axes, gaps as null, and the JSON they ship as.

Figures are plain dicts (see reports/charts.py), so these tests also run each one through
`plotly.graph_objects.Figure`, which rejects any attribute plotly does not know.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from reports import charts

START = datetime(2026, 11, 2, 18, tzinfo=UTC)


def _spec(markup: str) -> dict:
    """The figure a rendered chart ships, parsed back from its script tag."""
    found = re.search(r'<script type="application/json"[^>]*>(.*)</script>', markup, re.S)
    assert found, markup
    return json.loads(found.group(1))


def _valid(fig: charts.Figure) -> go.Figure:
    return go.Figure(fig)  # raises on an attribute or value plotly does not accept


def _windows(channel: str, minutes: list[int], counts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": channel,
            "window_start_at": [START + timedelta(minutes=m) for m in minutes],
            "message_count": counts,
            "unique_chatter_count": [c / 2 for c in counts],
            "new_chatter_count": [1.0] * len(counts),
            "mean_sentiment": [0.1] * len(counts),
            "toxicity_rate": [0.02] * len(counts),
            "mean_toxicity": [0.05] * len(counts),
            "moderation_action_count": [0.0] * len(counts),
        }
    )


def test_one_trace_per_channel_with_a_null_gap_off_stream() -> None:
    windows = pd.concat(
        [
            _windows("alpha", [0, 5, 10, 60, 65], [50, 60, 70, 80, 90]),  # a 50-minute pause
            _windows("beta", [0, 5], [10, 20]),
        ]
    )
    fig = charts.message_volume(windows, charts.channel_colors(["alpha", "beta"]))
    _valid(fig)
    alpha, beta = fig["data"]
    assert [t["meta"]["channel"] for t in fig["data"]] == ["alpha", "beta"]
    assert len(alpha["x"]) == len(alpha["y"]) == 6  # five windows and the gap's filler row
    assert alpha["y"][3] is None and alpha["x"][3] == "2026-11-02T18:15:00"
    assert alpha["y"][:3] == [10.0, 12.0, 14.0]  # messages per minute over 5-minute windows
    assert len(beta["x"]) == len(beta["y"]) == 2
    spec = _spec(charts.render(fig, "volume", timeseries=True))
    assert spec["data"][0]["y"][3] is None  # null in the JSON, which has no NaN
    assert spec["layout"]["xaxis"]["rangeslider"]["visible"] is True
    assert spec["layout"]["title"]["text"].startswith("Messages per minute")


def test_quiet_spans_between_streams_are_cut_from_multi_stream_time_axes() -> None:
    """Two streams a week apart each keep the width of their own chat; a 50-minute pause inside
    a stream stays on the axis."""
    week = 7 * 24 * 60
    windows = pd.concat([_windows("alpha", [0, 5, 10, 60, 65], [5, 6, 7, 8, 9]),
                         _windows("beta", [week, week + 5], [1, 2])])  # fmt: skip
    colors = charts.channel_colors(["alpha", "beta"])
    figures = [charts.message_volume(windows, colors), charts.toxicity_trend(windows, colors),
               charts.moderation_vs_toxicity(windows, colors),
               charts.hours_loaded(windows, colors), charts.new_vs_returning(windows, colors),
               charts.volume_and_chatters(windows, "alpha"),
               charts.sentiment_trend(windows, "alpha"),
               charts.emote_timeline(windows.rename(columns={"window_start_at": "bucket_at"})
                                     .assign(emote_code="Kappa", use_count=3))]  # fmt: skip
    for fig in figures:
        _valid(fig)
        ((lower, upper),) = [b["bounds"] for b in fig["layout"]["xaxis"]["rangebreaks"]]
        xs = sorted({x for trace in fig["data"] for x in trace["x"] if x is not None})
        # The break lies inside the one quiet week, with a margin on both sides.
        assert xs[0] < lower < upper < xs[-1]
        assert not [x for x in xs if lower <= x <= upper]
        last_of_first = max(x for x in xs if x < lower)
        assert pd.Timestamp(lower) - pd.Timestamp(last_of_first) == charts.QUIET_SPAN_MARGIN
        # Ticks on the shown spans only (Plotly's own put one tick at the cut), dated per span.
        ticks, labels = fig["layout"]["xaxis"]["tickvals"], fig["layout"]["xaxis"]["ticktext"]
        assert ticks and not [t for t in ticks if lower <= t <= upper]
        assert [label for label in labels if "<br>" in label] == ["Nov 02<br>18:00",
                                                                 "Nov 09<br>18:00"]  # fmt: skip
    one_stream = charts.message_volume(windows[windows["channel"] == "alpha"], colors)
    assert "rangebreaks" not in one_stream["layout"]["xaxis"]
    # Years of sparse imports: only the longest spans are cut.
    starts = [START + timedelta(days=3 * i + i * i) for i in range(charts.MAX_AXIS_BREAKS + 11)]
    breaks = charts.quiet_span_breaks(starts)
    assert len(breaks) == charts.MAX_AXIS_BREAKS
    assert breaks[0]["bounds"][0] > charts.utc([starts[10]])[0]  # the 10 shortest were left


def test_a_channels_area_lies_at_zero_between_its_streams() -> None:
    """plotly.js fills an area across a null gap (only the line breaks): the messages area
    gets zeros at both edges of the days off stream, which are cut from the axis."""
    week = 7 * 24 * 60
    windows = _windows("alpha", [0, 5, 10, week, week + 5], [5, 6, 7, 8, 9])
    fig = charts.volume_and_chatters(windows, "alpha")
    _valid(fig)
    area, chatters = fig["data"]
    assert area["fill"] == "tozeroy" and None not in area["y"]
    assert area["y"] == [5.0, 6.0, 7.0, 0.0, 0.0, 8.0, 9.0]
    assert area["x"][3:5] == ["2026-11-02T18:15:00", "2026-11-09T17:55:00"]
    assert chatters["y"][3] is None  # the line breaks
    assert fig["layout"]["xaxis"]["rangebreaks"]
    # The stream page's rate area: zero at a pause's edges inside the stream as well.
    timeline = charts.stream_timeline(
        _windows("alpha", [0, 1, 30, 31], [5, 6, 7, 8]).assign(
            window_seconds=60, subscription_count=0, raid_count=0
        ),
        bursts=pd.DataFrame(), moderation=pd.DataFrame(), hype=pd.DataFrame(),
        title="timeline", span=(START, START + timedelta(hours=1)),
    )  # fmt: skip
    rate = timeline["data"][0]
    assert rate["fill"] == "tozeroy" and rate["y"] == [5.0, 6.0, 0.0, 0.0, 7.0, 8.0]


def test_secondary_axis_traces_and_axis_titles() -> None:
    windows = _windows("alpha", [0, 5, 10], [5, 6, 7])
    fig = charts.sentiment_trend(windows, "alpha")
    _valid(fig)
    assert [t.get("yaxis", "y") for t in fig["data"]] == ["y", "y2"]
    assert fig["data"][1]["y"] == pytest.approx([2.0, 2.0, 2.0])  # toxicity in percent
    layout = fig["layout"]
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    assert layout["yaxis"]["range"] == [-1, 1] and "rangemode" not in layout["yaxis"]
    assert layout["yaxis2"]["title"]["text"] == "Toxic messages (%)"
    assert layout["xaxis"]["title"]["text"] == "Time (UTC)"


def test_stream_timeline_rows_windows_and_markers() -> None:
    windows = pd.concat(
        [
            _windows("alpha", [0, 1, 2], [60, 30, 90]).assign(window_seconds=60),
            _windows("alpha", [0, 0.5, 1], [30, 15, 45]).assign(window_seconds=30),
        ]
    ).assign(subscription_count=[0, 1, 0, 0, 0, 0], raid_count=0)
    moderation = pd.DataFrame(
        {
            "moderated_at": [START + timedelta(minutes=m) for m in (1, 2, 3)],
            "action_type": ["timeout", "ban", "timeout"],
            "duration_seconds": [np.nan, np.nan, 600],
            "target_max_toxicity_10m": [0.91, np.nan, 0.2],
        }
    )
    empty = pd.DataFrame()
    fig = charts.stream_timeline(
        windows,
        bursts=empty,
        moderation=moderation,
        hype=empty,
        title="timeline",
        span=(START, START + timedelta(hours=1)),
    )
    _valid(fig)
    names = [t["name"] for t in fig["data"]]
    assert names == [
        "Messages/min (1 min)",
        "Sentiment (1 min)",
        "Toxicity (1 min)",
        "Subs / raids (1 min)",
        "Messages/min (30 s)",
        "Sentiment (30 s)",
        "Toxicity (30 s)",
        "Moderation action",
    ]
    assert [t.get("meta", {}).get("window") for t in fig["data"]] == [60] * 4 + [30] * 3 + [None]
    assert [t["visible"] for t in fig["data"][:7]] == [True] * 4 + [False] * 3
    assert fig["data"][0]["y"] == [60.0, 30.0, 90.0]
    assert fig["data"][4]["y"] == [60.0, 30.0, 90.0]  # 30-second counts per minute
    rows = ["y", "y2", "y3", "y", "y", "y2", "y3", "y3"]
    assert [t.get("yaxis", "y") for t in fig["data"]] == rows
    assert [t.get("xaxis", "x") for t in fig["data"]] == [y.replace("y", "x") for y in rows]
    # A ban is permanent, not "0 s"; a timeout without a duration has none to show.
    assert fig["data"][-1]["text"] == ["timeout", "ban (permanent)", "timeout (600 s)"]
    assert fig["data"][-1]["y"] == [0.91, 0.0, 0.2]  # the target's toxicity, not a fixed height
    layout = fig["layout"]
    for axis in ("xaxis", "xaxis2", "xaxis3"):
        assert layout[axis]["range"] == ["2026-11-02T18:00:00", "2026-11-02T19:00:00"]
    assert layout["xaxis3"]["title"]["text"] == "Time (UTC)"
    assert layout["yaxis3"]["range"] == [0, 1.05]


def test_moderation_effect_follows_the_channel_filter_with_one_legend_entry_per_action() -> None:
    actions = pd.DataFrame(
        {
            "channel": ["alpha", "beta", "alpha"],
            "action_type": ["ban", "ban", "timeout"],
            "chat_toxicity_before_5m": [0.2, 0.3, 0.1],
            "chat_toxicity_after_5m": [0.1, 0.2, 0.1],
        }
    )
    fig = charts.moderation_effect(actions)
    _valid(fig)
    points = fig["data"][1:]  # after the diagonal
    assert [(t["name"], t["meta"]["channel"], t["showlegend"]) for t in points] == [
        ("ban", "alpha", True), ("ban", "beta", False), ("timeout", "alpha", True)]  # fmt: skip
    assert [t["x"] for t in points] == [[0.2], [0.3], [0.1]]


def test_empty_data_gives_a_titled_placeholder() -> None:
    fig = charts.stream_topics(pd.DataFrame())
    _valid(fig)
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"] == "No topics were modelled for this stream"
    assert fig["layout"]["xaxis"]["visible"] is False
    markup = charts.render(fig, "topics")
    assert 'aria-label="Topics through the stream' in markup


def test_json_nulls_nan_and_encodes_numpy_pandas_and_dates() -> None:
    fig = {
        "data": [
            {
                "type": "scatter",
                "x": [pd.Timestamp("2026-11-02T18:00:00"), datetime(2026, 11, 2, 18, 5), pd.NaT],
                "y": np.array([1.5, np.nan, 3.0]),
                "customdata": [np.int64(4), float("nan"), float("inf")],
            }
        ],
        "layout": {"title": {"text": "t"}},
    }
    data = json.loads(charts.to_json(fig))["data"][0]
    assert data["x"] == ["2026-11-02T18:00:00", "2026-11-02T18:05:00", None]
    assert data["y"] == [1.5, None, 3.0]
    assert data["customdata"] == [4, None, None]


def test_render_keeps_the_json_inside_its_script_tag() -> None:
    hostile = "</script><script>alert(1)</script>"
    fig = charts.top_emotes(
        pd.DataFrame({"emote_code": [hostile], "provider": ["bttv"], "use_count": [3]}), "emotes"
    )
    markup = str(charts.render(fig, "top-emotes"))
    assert markup.count("</script>") == 1
    assert "<script>alert" not in markup
    spec = _spec(markup)
    assert spec["data"][0]["y"] == [charts.esc(hostile)]  # escaped for Plotly's pseudo-HTML
