"""Plotly figures for the report pages: titled, with units and hover details.

Figures are shipped as JSON inside `<script type="application/json">` and drawn by
`static/site.js`, which also applies the light/dark theme and the page filters. Every string that
came from chat (channel names, emote codes, topic labels) goes through `esc()`: Plotly renders a
subset of HTML in names and hover text, and escaped entities display as the literal characters.

Trace `meta` drives the filters in site.js: `channel` (a channel, or "*" for an all-channel
total shown only when no channel is selected) and `window` (30 or 60, the stream timeline).

A figure is plain data, `{"data": [trace, ...], "layout": {...}}`, exactly what plotly.js takes,
not a `plotly.graph_objects.Figure`: validating every property of every trace in Python cost
~0.3 s per page, nearly all of the site's build. The tests validate every built figure with
`plotly.graph_objects` instead, and plotly.js checks them again when it draws.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd
from markupsafe import Markup
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from ml.segments import SEGMENT_NAMES

Figure = dict[str, Any]  # {"data": [trace, ...], "layout": {...}}, as plotly.js takes it

PALETTE = [
    "#9146FF",
    "#00A5A0",
    "#F5A623",
    "#E4572E",
    "#4A90E2",
    "#5DBB2F",
    "#BD10E0",
    "#8B572A",
    "#50E3C2",
    "#D0021B",
]
SENTIMENT_COLORS = {
    "positive": "#2EAD6B",
    "neutral": "#9AA0A6",
    "negative": "#E4572E",
    "unscored": "#D0D4D9",
}
PROVIDER_COLORS = {"twitch": "#9146FF", "bttv": "#D50014", "ffz": "#2E86DE", "7tv": "#29B6A4"}
SEGMENT_ORDER = [*SEGMENT_NAMES, "unsegmented"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
# Named colorscales are expanded as Plotly's validator did, so the JSON names no plotly.py scale.
PURPLES = [[float(stop), color] for stop, color in get_colorscale("Purples")]


def _grid(**kwargs: Any) -> dict[str, Any]:
    """The axes (and subplot-title annotations) `make_subplots` lays out for one grid."""
    layout = make_subplots(**kwargs).to_plotly_json()["layout"]
    return {k: v for k, v in layout.items() if k != "template"}


# The subplot grids the charts use, laid out by Plotly once at import instead of once per chart.
SECONDARY_Y = _grid(specs=[[{"secondary_y": True}]])
TIMELINE_ROWS = _grid(
    rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.5, 0.25, 0.25]
)
MODERATION_PANELS = _grid(
    rows=1,
    cols=2,
    subplot_titles=("Actions by type", "Timeout lengths"),
    horizontal_spacing=0.14,
)


def esc(value: object) -> str:
    """Text safe for Plotly's pseudo-HTML (names, labels, hover text).

    Quotes stay as they are: Plotly only interprets tags, and it shows `&quot;` literally.
    """
    return html.escape(str(value), quote=False)


def short(value: object, limit: int = 18) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utc(values: Iterable[Any]) -> list[str | None]:
    """Timestamps as naive UTC ISO strings: plotly.js does not parse UTC offsets."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    stamps = pd.to_datetime(series, utc=True).dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
    return [None if t == "NaT" else t for t in np.datetime_as_string(stamps, unit="s").tolist()]


def utc_labels(values: Iterable[Any], pattern: str) -> list[str]:
    """Timestamps formatted in UTC; strftime on plain datetimes is ~6x faster than pandas'."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    stamps = pd.to_datetime(series, utc=True).dt.tz_convert(None)
    return [t.strftime(pattern) for t in stamps.to_numpy(dtype="datetime64[us]").tolist()]


def _pauses(df: pd.DataFrame, time_col: str, seconds: int) -> tuple[pd.DataFrame, Any, Any]:
    """(rows sorted by time, their times as naive UTC datetime64, index of each row followed by
    a pause longer than a window and a half): where chat stopped, for `gaps` and areas alike."""
    rows = df.sort_values(time_col)
    times = pd.to_datetime(rows[time_col], utc=True).dt.tz_convert(None).to_numpy()
    pause = np.flatnonzero(np.diff(times) > np.timedelta64(int(1.5 * seconds * 1e6), "us"))
    return rows, times, pause


def gaps(df: pd.DataFrame, time_col: str, seconds: int) -> pd.DataFrame:
    """Insert an empty row after each pause longer than a window, so lines break off-stream."""
    if len(df) < 2:
        return df
    rows, times, pause = _pauses(df, time_col, seconds)
    if not len(pause):
        return rows
    # Row i keeps label i and the empty row after a pause at row i gets i + 0.5: one reindex
    # inserts them all (a concat and re-sort of the whole frame cost twice as much).
    at = np.arange(len(rows), dtype=float)
    order = np.argsort(np.concatenate([at, pause + 0.5]), kind="stable")
    filled = np.concatenate([times, times[pause] + np.timedelta64(seconds, "s")])[order]
    out = rows.set_axis(at).reindex(np.concatenate([at, pause + 0.5])[order])
    out[time_col] = pd.DatetimeIndex(filled).tz_localize("UTC")
    return out.reset_index(drop=True)


def offline_as_zero(df: pd.DataFrame, time_col: str, seconds: int, column: str) -> pd.DataFrame:
    """`df` sorted by time with `column` at zero off stream, for a filled area: plotly.js breaks a
    line at a null but fills across it, so an area would ramp over the hours between streams.
    Each pause (as `gaps` finds them) gets a zero after its last window and one before the next."""
    rows, times, pause = _pauses(df, time_col, seconds)
    step = np.timedelta64(seconds, "s")
    after, before = times[pause] + step, times[pause + 1] - step
    zeros = pd.DatetimeIndex(np.concatenate([after, before[before > after]])).tz_localize("UTC")
    filler = pd.DataFrame({time_col: zeros, column: 0.0})
    return pd.concat([rows, filler], ignore_index=True).sort_values(time_col, kind="stable")


# Quiet spans longer than this are cut out of multi-stream time axes (`break_quiet_spans`): two
# streams a week apart, or imports years apart, each get the width of their own chat.
QUIET_SPAN_BREAK = np.timedelta64(6, "h")
QUIET_SPAN_MARGIN = np.timedelta64(30, "m")  # kept either side of a break, so edges stay visible
MAX_AXIS_BREAKS = 60  # the longest spans only: each break costs the browser on every redraw


def _quiet_spans(times: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(distinct times sorted, index of each cut span's first time): the spans longer than
    `QUIET_SPAN_BREAK`, the longest `MAX_AXIS_BREAKS` of them."""
    series = pd.to_datetime(pd.Series(list(times)), utc=True).dropna().dt.tz_convert(None)
    stamps = np.unique(series.to_numpy(dtype="datetime64[s]"))
    length = np.diff(stamps)
    quiet = np.flatnonzero(length > QUIET_SPAN_BREAK)
    return stamps, np.sort(quiet[np.argsort(-length[quiet], kind="stable")[:MAX_AXIS_BREAKS]])


def quiet_span_breaks(times: Iterable[Any]) -> list[dict[str, list[str | None]]]:
    """Plotly `rangebreaks` cutting the quiet spans longer than `QUIET_SPAN_BREAK` between
    `times` (the longest `MAX_AXIS_BREAKS`), keeping `QUIET_SPAN_MARGIN` on each side."""
    return _span_breaks(*_quiet_spans(times))


def _span_breaks(stamps: np.ndarray, cut: np.ndarray) -> list[dict[str, list[str | None]]]:
    return [{"bounds": utc([stamps[i] + QUIET_SPAN_MARGIN, stamps[i + 1] - QUIET_SPAN_MARGIN])}
            for i in cut]  # fmt: skip


# Tick spacing on a cut axis: the first that gives at most `MAX_TICKS` over the shown time.
TICK_STEPS_HOURS = (1, 2, 3, 6, 12, 24, 48, 168, 720)
MAX_TICKS = 10


def _span_ticks(stamps: np.ndarray, cut: np.ndarray) -> tuple[list[str | None], list[str]]:
    """(tickvals, ticktext) for an axis cut by `_span_breaks`: Plotly's own ticks ignore the
    cuts (one tick, at a cut). Whole hours in each shown span, the first with its date."""
    firsts, lasts = np.r_[0, cut + 1], np.r_[cut, len(stamps) - 1]
    shown = (stamps[lasts] - stamps[firsts]).sum()
    step = next((h for h in TICK_STEPS_HOURS if shown / np.timedelta64(h, "h") <= MAX_TICKS),
                TICK_STEPS_HOURS[-1])  # fmt: skip
    values: list[np.datetime64] = []
    labels: list[str] = []
    for first, last in zip(stamps[firsts], stamps[lasts], strict=True):
        # Whole multiples of `step` hours since the epoch, within the span.
        since, until = (int(t.astype("datetime64[h]").astype(np.int64)) for t in (first, last))
        ticks = np.arange(-(-since // step) * step, until + 1, step).astype("datetime64[h]")
        ticks = ticks[(ticks >= first) & (ticks <= last)]
        if not len(ticks):
            ticks = np.array([first.astype("datetime64[m]")])
        for k, tick in enumerate(ticks.astype("datetime64[s]").tolist()):
            values.append(np.datetime64(tick, "s"))
            labels.append(tick.strftime("%b %d<br>%H:%M" if k == 0 else "%H:%M"))
    return utc(values), labels


def break_quiet_spans(fig: Figure) -> Figure:
    """Cut the quiet spans between the figure's x values out of its x axes, with ticks in the
    spans shown."""
    times = [x for trace in fig["data"] for x in trace.get("x") or () if x is not None]
    stamps, cut = _quiet_spans(times)
    if len(cut):
        tickvals, ticktext = _span_ticks(stamps, cut)
        _axes(fig, "x", rangebreaks=_span_breaks(stamps, cut), tickvals=tickvals,
              ticktext=ticktext)  # fmt: skip
    return fig


def color_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def channel_colors(channels: Sequence[str]) -> dict[str, str]:
    return {ch: color_of(i) for i, ch in enumerate(sorted(channels))}


def _num(values: Iterable[Any]) -> list[float | None]:
    """Floats for JSON, None (null) where a value is missing: plotly.js breaks lines there."""
    try:
        floats = np.asarray(values if isinstance(values, pd.Series) else list(values), dtype=float)
    except TypeError:  # pd.NA in an object column: one value at a time
        return [None if v is None or pd.isna(v) else float(v) for v in values]
    return [None if v != v else v for v in floats.tolist()]  # NaN (and None) -> None


# ---------------------------------------------------------------------------------------------
# Figures as plain data


def _trace(kind: str, **props: Any) -> dict[str, Any]:
    """One trace; props are plotly.js attributes (nested dicts, not Plotly's `a_b` shorthand)."""
    return {"type": kind, **props}


def _set(**props: Any) -> dict[str, Any]:
    """Attributes without the unset (None) ones, which Plotly leaves out of a figure."""
    return {k: v for k, v in props.items() if v is not None}


def _figure(*traces: dict[str, Any], grid: Mapping[str, Any] | None = None) -> Figure:
    """A figure with `traces`, on a `make_subplots` grid or on one x and one y axis."""
    layout: dict[str, Any] = {"xaxis": {}, "yaxis": {}} if grid is None else {}
    if grid is not None:
        _update(layout, grid)  # a deep copy: the grid is shared by every chart that uses it
    return {"data": list(traces), "layout": layout}


def _update(target: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` like Plotly's update: dicts merge (copied), None removes a key."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            _update(target[key], cast(Mapping[str, Any], value))
        else:
            target[key] = value
    return target


def _axes(fig: Figure, letter: str, **changes: Any) -> None:
    """Plotly's update_xaxes/update_yaxes: `changes` into every x (or y) axis of the figure."""
    pattern = re.compile(letter + r"axis\d*")
    for key, axis in fig["layout"].items():
        if pattern.fullmatch(key):
            _update(axis, changes)


def _layout(
    fig: Figure,
    title: str,
    *,
    x_title: str = "",
    y_title: str = "",
    height: int = 360,
    hovermode: str = "x unified",
) -> Figure:
    _update(
        fig["layout"],
        {
            "template": {},  # no 10 KB plotly.py template per chart; site.js themes it
            "title": {
                "text": title,
                "x": 0.01,
                "xanchor": "left",
                "y": 0.985,
                "yanchor": "top",
                "yref": "container",
                "font": {"size": 15},
            },
            "margin": {"l": 56, "r": 16, "t": 78, "b": 44},
            "height": height,
            # Legend above the plot, under the title: below it collides with axis titles/sliders.
            "legend": {
                "orientation": "h",
                "y": 1.01,
                "yanchor": "bottom",
                "x": 0,
                "xanchor": "left",
            },
            "hovermode": hovermode,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "size": 12},
            "colorway": PALETTE,
            "hoverlabel": {"namelength": -1},
        },
    )
    _axes(fig, "x", title={"text": x_title}, automargin=True, showgrid=True)
    _axes(fig, "y", title={"text": y_title}, automargin=True, showgrid=True, rangemode="tozero")
    return fig


def _plain(value: Any) -> Any:
    """What `json` cannot encode itself, as PlotlyJSONEncoder would: numpy, pandas, dates."""
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _nulled(value: Any) -> Any:
    """A copy with NaN and infinities as None: JSON has no NaN, plotly.js reads null as a gap."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _nulled(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nulled(v) for v in value]
    try:
        plain = _plain(value)
    except TypeError:
        return value  # json.dumps reports it
    return _nulled(plain)


def to_json(fig: Figure) -> str:
    """Compact JSON of a figure. The charts build plain lists with None for gaps, so the fast path
    almost always succeeds; a NaN that slipped through is nulled on a second, slower pass."""
    try:
        return json.dumps(fig, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:  # "Out of range float values are not JSON compliant"
        return json.dumps(_nulled(fig), separators=(",", ":"), allow_nan=False, default=_plain)


def render(fig: Figure, div_id: str, *, timeseries: bool = False, tall: bool = False) -> Markup:
    """A chart placeholder plus its figure as JSON that cannot break out of the script tag."""
    payload = to_json({"data": fig["data"], "layout": fig["layout"]})
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    attrs = ' data-timeseries="1"' if timeseries else ""
    cls = "chart tall" if tall else "chart"
    label = fig["layout"].get("title", {}).get("text") or div_id
    return Markup(
        f'<div class="{cls}" id="{esc(div_id)}"{attrs} role="img" '
        f'aria-label="{esc(label)}"></div>'
        f'<script type="application/json" class="chart-spec" data-for="{esc(div_id)}">'
        f"{payload}</script>"
    )


def empty(title: str, message: str = "No data for this period yet") -> Figure:
    """A titled placeholder, so a page with no rows still renders a (labelled) chart."""
    fig = _figure()
    fig["layout"]["annotations"] = [
        {
            "font": {"size": 14},
            "showarrow": False,
            "text": esc(message),
            "x": 0.5,
            "xref": "paper",
            "y": 0.5,
            "yref": "paper",
        }
    ]
    fig = _layout(fig, title, height=220)
    _axes(fig, "x", visible=False)
    _axes(fig, "y", visible=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Overview


def message_volume(df: pd.DataFrame, colors: dict[str, str], *, window_minutes: int = 5) -> Figure:
    """Messages per minute, one trace per channel (meta.channel drives the channel filter)."""
    title = f"Messages per minute ({window_minutes}-minute average)"
    if df.empty:
        return empty(title)
    fig = _figure()
    for channel, rows in df.groupby("channel", sort=True):
        rows = gaps(rows, "window_start_at", 60 * window_minutes)
        rate = rows["message_count"].astype(float) / window_minutes
        fig["data"].append(
            _trace(
                "scatter",
                x=utc(rows["window_start_at"]),
                y=_num(rate.round(2)),
                name=f"#{esc(channel)}",
                mode="lines",
                line=_set(width=1.6, color=colors.get(str(channel))),
                meta={"channel": str(channel)},
                hovertemplate="%{y:.1f} msg/min<extra>%{fullData.name}</extra>",
            )
        )
    fig = _layout(fig, title, x_title="Time (UTC)", y_title="Messages per minute")
    _axes(fig, "x", rangeslider={"visible": True, "thickness": 0.06})
    return break_quiet_spans(fig)


def activity_heatmap(df: pd.DataFrame) -> Figure:
    """Weekday x hour of day; an all-channel trace plus one per channel for the filter."""
    title = "When chat is active: messages by weekday and hour (UTC)"
    if df.empty:
        return empty(title)
    fig = _figure()

    def grid(rows: pd.DataFrame) -> list[list[float]]:
        z = np.zeros((7, 24))
        for r in rows.to_dict(orient="records"):
            z[int(r["weekday"]) - 1, int(r["hour"])] += float(r["message_count"])
        return z.tolist()

    traces = [("*", df, True)] + [(str(c), rows, False) for c, rows in df.groupby("channel")]
    for channel, rows, visible in traces:
        fig["data"].append(
            _trace(
                "heatmap",
                z=grid(rows),
                x=list(range(24)),
                y=WEEKDAYS,
                colorscale=PURPLES,
                visible=visible,
                name="all channels" if channel == "*" else f"#{esc(channel)}",
                meta={"channel": channel, "exclusive": channel != "*"},
                colorbar={"title": {"text": "msgs"}, "thickness": 12},
                hovertemplate="%{y} %{x}:00 UTC: %{z:,.0f} messages<extra>%{fullData.name}</extra>",
                xgap=1,
                ygap=1,
            )
        )
    fig = _layout(fig, title, x_title="Hour of day (UTC)", hovermode="closest", height=320)
    _axes(fig, "y", autorange="reversed", showgrid=False, rangemode=None)
    _axes(fig, "x", dtick=2, showgrid=False)
    return fig


def channel_engagement(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "Top channels by engagement: messages per chatter"
    if df.empty:
        return empty(title)
    rows = df.sort_values("messages_per_chatter", ascending=True, na_position="first")
    fig = _figure(
        _trace(
            "bar",
            x=_num(rows["messages_per_chatter"]),
            y=[f"#{esc(short(c, 24))}" for c in rows["channel"]],
            orientation="h",
            marker={"color": [colors.get(str(c)) for c in rows["channel"]]},
            customdata=[
                [int(chatters), float(messages), live, int(streams)]
                for chatters, messages, live, streams in zip(
                    rows["chatter_count"].fillna(0),
                    rows["message_count"].fillna(0),
                    [
                        "no live minutes" if pd.isna(v) else f"{v:.1f} msg/min while live"
                        for v in rows["messages_per_minute"]
                    ],
                    rows["stream_count"].fillna(0),
                    strict=True,
                )
            ],
            hovertemplate=(
                "%{y}: %{x:.1f} messages per chatter<br>%{customdata[0]:,} chatters, "
                "%{customdata[1]:,} messages<br>%{customdata[2]}, "
                "%{customdata[3]} streams<extra></extra>"
            ),
        )
    )
    fig = _layout(
        fig,
        title,
        x_title="Messages per chatter",
        hovermode="closest",
        height=max(220, 60 + 40 * len(rows)),
    )
    fig["layout"]["showlegend"] = False
    return fig


# ---------------------------------------------------------------------------------------------
# Channel


def volume_and_chatters(df: pd.DataFrame, channel: str) -> Figure:
    title = f"#{esc(channel)}: messages and unique chatters per 5 minutes"
    if df.empty:
        return empty(title)
    area = offline_as_zero(df, "window_start_at", 300, "message_count")
    df = gaps(df, "window_start_at", 300)
    fig = _figure(
        _trace(
            "scatter",
            x=utc(area["window_start_at"]),
            y=_num(area["message_count"]),
            name="Messages",
            mode="lines",
            line={"color": PALETTE[0]},
            fill="tozeroy",
            hovertemplate="%{y:,} messages<extra></extra>",
        ),
        _trace(
            "scatter",
            x=utc(df["window_start_at"]),
            y=_num(df["unique_chatter_count"]),
            name="Unique chatters",
            mode="lines",
            line={"color": PALETTE[1]},
            hovertemplate="%{y:,} chatters<extra></extra>",
        ),
    )
    return break_quiet_spans(
        _layout(fig, title, x_title="Time (UTC)", y_title="Count per 5 minutes")
    )


def sentiment_pie(df: pd.DataFrame, channel: str) -> Figure:
    title = f"#{esc(channel)}: sentiment of messages"
    if df.empty:
        return empty(title)
    fig = _figure(
        _trace(
            "pie",
            labels=[esc(x) for x in df["sentiment_label"]],
            values=_num(df["message_count"]),
            hole=0.45,
            sort=False,
            marker={"colors": [SENTIMENT_COLORS.get(x, "#888") for x in df["sentiment_label"]]},
            hovertemplate="%{label}: %{value:,} messages (%{percent})<extra></extra>",
        )
    )
    return _layout(fig, title, hovermode="closest", height=340)


def sentiment_trend(df: pd.DataFrame, channel: str) -> Figure:
    title = f"#{esc(channel)}: mean sentiment and toxicity per 5 minutes"
    if df.empty:
        return empty(title)
    df = gaps(df, "window_start_at", 300)
    x = utc(df["window_start_at"])
    fig = _figure(
        _trace(
            "scatter",
            x=x,
            y=_num(df["mean_sentiment"]),
            name="Mean sentiment (-1..1)",
            mode="lines",
            line={"color": SENTIMENT_COLORS["positive"]},
            hovertemplate="sentiment %{y:.2f}<extra></extra>",
        ),
        _trace(
            "scatter",
            x=x,
            y=[None if v is None else v * 100 for v in _num(df["toxicity_rate"])],
            name="Toxic messages (%)",
            mode="lines",
            line={"color": SENTIMENT_COLORS["negative"], "dash": "dot"},
            hovertemplate="%{y:.1f}% toxic<extra></extra>",
            yaxis="y2",
        ),
        grid=SECONDARY_Y,
    )
    fig = _layout(fig, title, x_title="Time (UTC)")
    _update(
        fig["layout"],
        {
            "yaxis": {"title": {"text": "Mean sentiment"}, "range": [-1, 1], "rangemode": None},
            "yaxis2": {"title": {"text": "Toxic messages (%)"}, "showgrid": False},
        },
    )
    return break_quiet_spans(fig)


def top_emotes(df: pd.DataFrame, title: str, *, limit: int = 15) -> Figure:
    """Horizontal bars of the most used emotes, coloured by provider."""
    if df.empty:
        return empty(title)
    rows = (
        cast(
            pd.DataFrame, df.groupby(["emote_code", "provider"], as_index=False)["use_count"].sum()
        )
        .nlargest(limit, columns="use_count")
        .iloc[::-1]
    )
    fig = _figure()
    for provider, part in rows.groupby("provider", sort=False):
        fig["data"].append(
            _trace(
                "bar",
                x=_num(part["use_count"]),
                y=[esc(e) for e in part["emote_code"]],
                orientation="h",
                name=esc(provider),
                marker={"color": PROVIDER_COLORS.get(str(provider), "#888")},
                hovertemplate="%{y} (" + esc(provider) + "): %{x:,} uses<extra></extra>",
            )
        )
    fig = _layout(
        fig, title, x_title="Uses", hovermode="closest", height=max(260, 80 + 22 * len(rows))
    )
    _axes(fig, "y", categoryorder="array", categoryarray=[esc(e) for e in rows["emote_code"]])
    fig["layout"]["barmode"] = "stack"
    return fig


def segments_by_stream(df: pd.DataFrame, channel: str) -> Figure:
    title = f"#{esc(channel)}: chatter segments per stream"
    if df.empty:
        return empty(title)
    starts = pd.Series(df["started_at"].unique()).sort_values()
    labels = utc_labels(starts, "%b %d %H:%M")
    fig = _figure()
    present = [s for s in SEGMENT_ORDER if s in set(df["segment"])]
    present += sorted(set(df["segment"]) - set(present))
    for i, segment in enumerate(present):
        part = df[df["segment"] == segment]
        count_at = dict(
            zip(part["started_at"].tolist(), part["chatter_count"].tolist(), strict=True)
        )
        fig["data"].append(
            _trace(
                "bar",
                x=labels,
                y=[float(count_at.get(s, 0) or 0) for s in starts.tolist()],
                name=esc(segment),
                marker={"color": color_of(i)},
                hovertemplate="%{x}: %{y:,} " + esc(segment) + " chatters<extra></extra>",
            )
        )
    fig = _layout(fig, title, x_title="Stream start (UTC)", y_title="Chatters")
    fig["layout"]["barmode"] = "stack"
    _axes(fig, "x", type="category")
    return fig


# ---------------------------------------------------------------------------------------------
# Stream


def stream_timeline(
    windows: pd.DataFrame,
    *,
    bursts: pd.DataFrame,
    moderation: pd.DataFrame,
    hype: pd.DataFrame,
    title: str,
    span: tuple[Any, Any] | None = None,
) -> Figure:
    """Message rate, sentiment and toxicity at 30 s and 1 min (toggle), with event markers.

    Rows share one time axis: row 1 (x/y) rate and event markers, row 2 (x2/y2) sentiment,
    row 3 (x3/y3) toxicity and moderation actions.
    """
    fig = _figure(grid=TIMELINE_ROWS)
    traces = fig["data"]
    for seconds in (60, 30):
        rows = cast(pd.DataFrame, windows.loc[windows["window_seconds"] == seconds])
        if rows.empty:
            continue
        area = offline_as_zero(rows, "window_start_at", seconds, "message_count")
        rows = gaps(rows, "window_start_at", seconds)
        x = utc(rows["window_start_at"])
        label = "1 min" if seconds == 60 else "30 s"
        meta = {"window": seconds}
        visible = seconds == 60
        rate = area["message_count"].astype(float) * 60.0 / seconds
        traces.append(
            _trace(
                "scatter",
                x=utc(area["window_start_at"]),
                y=_num(rate.round(1)),
                name=f"Messages/min ({label})",
                mode="lines",
                line={"color": PALETTE[0], "width": 1.5},
                fill="tozeroy",
                meta=meta,
                visible=visible,
                hovertemplate="%{y:.0f} msg/min<extra></extra>",
            )
        )
        traces.append(
            _trace(
                "scatter",
                x=x,
                y=_num(rows["mean_sentiment"]),
                name=f"Sentiment ({label})",
                mode="lines",
                line={"color": SENTIMENT_COLORS["positive"], "width": 1.3},
                meta=meta,
                visible=visible,
                hovertemplate="sentiment %{y:.2f}<extra></extra>",
                xaxis="x2",
                yaxis="y2",
            )
        )
        traces.append(
            _trace(
                "scatter",
                x=x,
                y=_num(rows["mean_toxicity"]),
                name=f"Toxicity ({label})",
                mode="lines",
                line={"color": SENTIMENT_COLORS["negative"], "width": 1.3},
                meta=meta,
                visible=visible,
                hovertemplate="toxicity %{y:.2f}<extra></extra>",
                xaxis="x3",
                yaxis="y3",
            )
        )
        notices = rows[(rows["subscription_count"] > 0) | (rows["raid_count"] > 0)]
        if not notices.empty:
            traces.append(
                _trace(
                    "scatter",
                    x=utc(notices["window_start_at"]),
                    y=_num((notices["message_count"].astype(float) * 60.0 / seconds).round(1)),
                    name=f"Subs / raids ({label})",
                    mode="markers",
                    meta=meta,
                    visible=visible,
                    marker={"symbol": "star", "size": 11, "color": PALETTE[2]},
                    customdata=np.asarray(
                        notices[["subscription_count", "raid_count"]], dtype=int
                    ).tolist(),
                    hovertemplate="%{customdata[0]} subs, %{customdata[1]} raids<extra></extra>",
                )
            )
    if not bursts.empty:
        traces.append(
            _trace(
                "scatter",
                x=utc(bursts["peak_at"]),
                y=_num(bursts["peak_messages_per_minute"]),
                name="Emote burst",
                mode="markers+text",
                text=[esc(e) for e in bursts["emote_code"]],
                textposition="top center",
                marker={"symbol": "diamond", "size": 10, "color": PALETTE[3]},
                customdata=np.column_stack(
                    [bursts["peak_uses"].astype(int), bursts["burst_score"].astype(float).round(1)]
                ).tolist(),
                hovertemplate=(
                    "burst %{text}: %{customdata[0]} uses at peak, score "
                    "%{customdata[1]}<extra></extra>"
                ),
            )
        )
    if not hype.empty:
        traces.append(
            _trace(
                "scatter",
                x=utc(hype["predicted_minute_start_at"]),
                y=[0.0] * len(hype),
                name="Predicted hype minute",
                mode="markers",
                marker={"symbol": "triangle-up", "size": 11, "color": PALETTE[6]},
                customdata=_num((hype["hype_probability"].astype(float) * 100).round(0)),
                hovertemplate="predicted hype (%{customdata:.0f}%)<extra></extra>",
            )
        )
    if not moderation.empty:
        # On the toxicity row, at the most toxic thing the target wrote in the 10 minutes
        # before (0 when unknown): a marker at a fixed height would read as a toxicity.
        target = (
            moderation["target_max_toxicity_10m"].astype(float).fillna(0.0)
            if "target_max_toxicity_10m" in moderation
            else pd.Series(0.0, index=moderation.index)
        )
        traces.append(
            _trace(
                "scatter",
                x=utc(moderation["moderated_at"]),
                y=_num(target.round(3)),
                name="Moderation action",
                mode="markers",
                marker={"symbol": "x", "size": 9, "color": SENTIMENT_COLORS["negative"]},
                text=[
                    esc(_action_label(action, seconds))
                    for action, seconds in zip(
                        moderation["action_type"], moderation["duration_seconds"], strict=True
                    )
                ],
                hovertemplate="%{text}; target's max toxicity %{y:.2f}<extra></extra>",
                xaxis="x3",
                yaxis="y3",
            )
        )
    fig = _layout(fig, title, height=560)
    if span is not None:  # markers would otherwise pad the axis beyond the stream
        _axes(fig, "x", range=utc(span))
    _update(
        fig["layout"],
        {
            "xaxis3": {"title": {"text": "Time (UTC)"}},
            "yaxis": {"title": {"text": "Msg/min"}},
            "yaxis2": {"title": {"text": "Sentiment"}, "range": [-1, 1], "rangemode": None},
            "yaxis3": {"title": {"text": "Toxicity"}, "range": [0, 1.05], "rangemode": None},
        },
    )
    return fig


def stream_shape(
    stream_deciles: Sequence[float],
    usual: Sequence[float] | None,
    channel: str,
    pattern: str | None,
) -> Figure:
    title = f"Shape of this stream ({esc(pattern or 'unclassified')}) vs #{esc(channel)}'s usual"
    if not stream_deciles:
        return empty(title)
    x = [f"{i * 10}–{(i + 1) * 10}%" for i in range(len(stream_deciles))]
    fig = _figure(
        _trace(
            "bar",
            x=x,
            y=[v * 100 for v in stream_deciles],
            name="This stream",
            marker={"color": PALETTE[0]},
            hovertemplate="%{x} of the stream: %{y:.1f}% of messages<extra>this stream</extra>",
        )
    )
    if usual:
        fig["data"].append(
            _trace(
                "scatter",
                x=x,
                y=[v * 100 for v in usual],
                name="Channel's usual",
                mode="lines+markers",
                line={"color": PALETTE[2], "width": 2},
                hovertemplate="%{y:.1f}% of messages<extra>usual</extra>",
            )
        )
    return _layout(
        fig, title, x_title="Part of the stream", y_title="Share of messages (%)", height=320
    )


def stream_topics(df: pd.DataFrame) -> Figure:
    title = "Topics through the stream (weight of each segment's top topics)"
    if df.empty:
        return empty(title, "No topics were modelled for this stream")
    fig = _figure()
    for rank, part in df.groupby("topic_rank", sort=True):
        fig["data"].append(
            _trace(
                "bar",
                x=utc(part["segment_start_at"]),
                y=_num(part["topic_weight"]),
                name=f"Topic #{rank}",
                text=[esc(t) for t in part["topic_label"]],
                textposition="inside",
                insidetextanchor="middle",
                marker={"color": color_of(int(rank) - 1)},  # type: ignore[arg-type]
                customdata=_num(part["shift_from_previous"].fillna(0).astype(float).round(2)),
                hovertemplate="%{text}: weight %{y:.2f} (shift %{customdata})<extra></extra>",
            )
        )
    fig = _layout(
        fig, title, x_title="Segment start (UTC)", y_title="Topic weight", hovermode="closest"
    )
    fig["layout"]["barmode"] = "stack"
    return fig


# ---------------------------------------------------------------------------------------------
# Emotes


def provider_leaderboard(
    df: pd.DataFrame, provider: str, colors: dict[str, str], *, limit: int = 10
) -> Figure:
    """Top emotes of one provider; bars stacked by channel so the channel filter applies."""
    title = f"Top {provider.upper() if provider != 'twitch' else 'Twitch'} emotes"
    rows = cast(pd.DataFrame, df.loc[df["provider"] == provider])
    if rows.empty:
        return empty(title, f"No {provider} emotes used")
    totals = cast(pd.Series, rows.groupby("emote_code")["use_count"].sum())
    order = totals.nlargest(limit).index.tolist()
    rows = cast(pd.DataFrame, rows.loc[rows["emote_code"].isin(order)])
    fig = _figure()
    for channel, part in rows.groupby("channel", sort=True):
        fig["data"].append(
            _trace(
                "bar",
                x=_num(part["use_count"]),
                y=[esc(e) for e in part["emote_code"]],
                orientation="h",
                name=f"#{esc(channel)}",
                marker=_set(color=colors.get(str(channel))),
                meta={"channel": str(channel)},
                hovertemplate="%{y}: %{x:,} uses<extra>%{fullData.name}</extra>",
            )
        )
    fig = _layout(
        fig, title, x_title="Uses", hovermode="closest", height=max(240, 90 + 24 * len(order))
    )
    fig["layout"]["barmode"] = "stack"
    _axes(fig, "y", categoryorder="array", categoryarray=[esc(e) for e in order[::-1]])
    return fig


def emote_timeline(df: pd.DataFrame) -> Figure:
    title = "Emote uses per 5 minutes (each channel's six most used)"
    if df.empty:
        return empty(title)
    fig = _figure()
    for i, (key, part) in enumerate(df.groupby(["channel", "emote_code"])):
        channel, emote = cast(tuple[str, str], key)
        part = gaps(part, "bucket_at", 300)
        fig["data"].append(
            _trace(
                "scatter",
                x=utc(part["bucket_at"]),
                y=_num(part["use_count"]),
                name=f"{esc(emote)} · #{esc(channel)}",
                mode="lines",
                line={"color": color_of(i)},
                meta={"channel": str(channel)},
                hovertemplate="%{y:,} uses<extra>%{fullData.name}</extra>",
            )
        )
    return break_quiet_spans(
        _layout(fig, title, x_title="Time (UTC)", y_title="Uses per 5 minutes", height=400)
    )


def burst_scatter(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "Emote bursts: strength over time (size = uses at peak)"
    if df.empty:
        return empty(title, "No emote bursts detected")
    fig = _figure()
    for channel, part in df.groupby("channel", sort=True):
        size = part["peak_uses"].astype(float)
        fig["data"].append(
            _trace(
                "scatter",
                x=utc(part["peak_at"]),
                y=_num(part["burst_score"]),
                mode="markers",
                name=f"#{esc(channel)}",
                meta={"channel": str(channel)},
                text=[esc(e) for e in part["emote_code"]],
                marker=_set(
                    size=_num(6 + 24 * np.sqrt(size / max(size.max(), 1))),
                    color=colors.get(str(channel)),
                    opacity=0.75,
                    line={"width": 1, "color": "rgba(0,0,0,.3)"},
                ),
                customdata=np.column_stack(
                    [
                        part["peak_uses"].astype(int),
                        part["baseline_uses"].astype(float).round(1),
                        part["nearby_subscription_count"].fillna(0).astype(int),
                        part["nearby_raid_count"].fillna(0).astype(int),
                        part["nearby_moderation_count"].fillna(0).astype(int),
                        [esc(x or "none") for x in part["nearby_other_burst_emotes"]],
                    ]
                ).tolist(),
                hovertemplate=(
                    "<b>%{text}</b> score %{y:.1f}<br>%{customdata[0]} uses at peak "
                    "(baseline %{customdata[1]}/min)<br>nearby: %{customdata[2]} subs, "
                    "%{customdata[3]} raids, %{customdata[4]} moderation<br>other bursts: "
                    "%{customdata[5]}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    return _layout(fig, title, x_title="Peak (UTC)", y_title="Burst score", hovermode="closest")


# ---------------------------------------------------------------------------------------------
# Community


def segment_distribution(df: pd.DataFrame) -> Figure:
    title = "Chatter segments per channel (share of chatters)"
    if df.empty:
        return empty(title)
    totals = cast(pd.Series, df.groupby("channel")["chatter_count"].sum())
    present = [s for s in SEGMENT_ORDER if s in set(df["segment"])]
    present += sorted(set(df["segment"]) - set(present))
    channels = sorted(str(c) for c in totals.index)
    total_of = {str(k): float(v) for k, v in totals.items()}
    fig = _figure()
    for i, segment in enumerate(present):
        part = cast(pd.DataFrame, df.loc[df["segment"] == segment])
        by_channel = {
            str(k): float(v) for k, v in zip(part["channel"], part["chatter_count"], strict=True)
        }
        counts = [by_channel.get(c, 0.0) for c in channels]
        fig["data"].append(
            _trace(
                "bar",
                y=[f"#{esc(short(c, 24))}" for c in channels],
                x=[100 * n / max(total_of[c], 1) for n, c in zip(counts, channels, strict=True)],
                customdata=counts,
                orientation="h",
                name=esc(segment),
                marker={"color": color_of(i)},
                hovertemplate="%{y}: %{x:.1f}% "
                + esc(segment)
                + " (%{customdata:,})<extra></extra>",
            )
        )
    fig = _layout(
        fig,
        title,
        x_title="Share of chatters (%)",
        hovermode="closest",
        height=max(240, 110 + 40 * len(channels)),
    )
    fig["layout"]["barmode"] = "stack"
    return fig


def retention(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """Per stream: new, returning from the previous stream, returning from earlier; churn line."""
    title = "Loyalty and churn across streams"
    if df.empty:
        return empty(title)
    fig = _figure(grid=SECONDARY_Y)
    parts = [
        ("new_count", "New to the channel", PALETTE[2]),
        ("from_previous_count", "Back from the previous stream", PALETTE[0]),
        ("from_earlier_count", "Back from an earlier stream", PALETTE[4]),
    ]
    first = min(str(c) for c in df["channel"])  # its traces carry the legend entries
    for key, rows in df.groupby("channel", sort=True):
        channel = str(key)
        xs = [f"#{esc(short(channel))} {t}" for t in utc_labels(rows["started_at"], "%b %d %H:%M")]
        for column, label, color in parts:
            fig["data"].append(
                _trace(
                    "bar",
                    x=xs,
                    y=_num(rows[column]),
                    name=label,
                    legendgroup=column,
                    showlegend=channel == first,
                    marker={"color": color},
                    meta={"channel": channel},
                    hovertemplate="%{y:,} " + label.lower() + "<extra></extra>",
                )
            )
        prev = rows["previous_chatter_count"].astype(float)
        churn = (100 * rows["churned_count"].astype(float) / prev.where(prev > 0)).round(1)  # pyright: ignore[reportAttributeAccessIssue]
        fig["data"].append(
            _trace(
                "scatter",
                x=xs,
                y=_num(churn),
                name="Churn: previous stream's chatters who did not return",
                legendgroup="churn",
                showlegend=channel == first,
                mode="lines+markers",
                line={"color": colors.get(channel, PALETTE[3]), "dash": "dot"},
                meta={"channel": channel},
                hovertemplate="%{y:.1f}% churned<extra></extra>",
                yaxis="y2",
            )
        )
    fig = _layout(fig, title, x_title="Stream", height=420)
    fig["layout"]["barmode"] = "stack"
    _axes(fig, "x", type="category")
    _update(
        fig["layout"],
        {
            "yaxis": {"title": {"text": "Chatters"}},
            "yaxis2": {
                "title": {"text": "Churn (%)"},
                "range": [0, 100],
                "rangemode": None,
                "showgrid": False,
            },
        },
    )
    return fig


def new_vs_returning(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "New vs returning chatters per 5 minutes"
    if df.empty:
        return empty(title)
    fig = _figure()
    for channel, rows in df.groupby("channel", sort=True):
        rows = gaps(rows, "window_start_at", 300)
        x = utc(rows["window_start_at"])
        new = rows["new_chatter_count"].astype(float)
        returning = (rows["unique_chatter_count"].astype(float) - new).clip(lower=0)
        color = colors.get(str(channel))
        fig["data"].append(
            _trace(
                "scatter",
                x=x,
                y=_num(returning),
                name=f"#{esc(channel)} returning",
                mode="lines",
                line=_set(color=color),
                meta={"channel": str(channel)},
                hovertemplate="%{y:,} returning<extra>%{fullData.name}</extra>",
            )
        )
        fig["data"].append(
            _trace(
                "scatter",
                x=x,
                y=_num(new),
                name=f"#{esc(channel)} new",
                mode="lines",
                line=_set(color=color, dash="dot"),
                meta={"channel": str(channel)},
                hovertemplate="%{y:,} new<extra>%{fullData.name}</extra>",
            )
        )
    return break_quiet_spans(
        _layout(fig, title, x_title="Time (UTC)", y_title="Chatters per 5 minutes")
    )


# ---------------------------------------------------------------------------------------------
# Moderation and toxicity


def toxicity_trend(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "Toxic messages per 5 minutes (% of messages)"
    if df.empty:
        return empty(title)
    fig = _figure()
    for channel, rows in df.groupby("channel", sort=True):
        rows = gaps(rows, "window_start_at", 300)
        fig["data"].append(
            _trace(
                "scatter",
                x=utc(rows["window_start_at"]),
                y=_num((rows["toxicity_rate"].astype(float) * 100).round(2)),
                name=f"#{esc(channel)}",
                mode="lines",
                line=_set(color=colors.get(str(channel))),
                meta={"channel": str(channel)},
                hovertemplate="%{y:.1f}% toxic<extra>%{fullData.name}</extra>",
            )
        )
    return break_quiet_spans(
        _layout(fig, title, x_title="Time (UTC)", y_title="Toxic messages (%)")
    )


def moderation_vs_toxicity(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "Moderation actions against chat toxicity (per 5 minutes)"
    if df.empty:
        return empty(title)
    fig = _figure(grid=SECONDARY_Y)
    for channel, rows in df.groupby("channel", sort=True):
        rows = gaps(rows, "window_start_at", 300)
        x = utc(rows["window_start_at"])
        color = colors.get(str(channel))
        fig["data"].append(
            _trace(
                "bar",
                x=x,
                y=_num(rows["moderation_action_count"]),
                name=f"#{esc(channel)} actions",
                marker=_set(color=color),
                opacity=0.55,
                meta={"channel": str(channel)},
                hovertemplate="%{y} moderation actions<extra>%{fullData.name}</extra>",
            )
        )
        fig["data"].append(
            _trace(
                "scatter",
                x=x,
                y=_num(rows["mean_toxicity"]),
                name=f"#{esc(channel)} mean toxicity",
                mode="lines",
                line=_set(color=color, width=1.4),
                meta={"channel": str(channel)},
                hovertemplate="mean toxicity %{y:.2f}<extra>%{fullData.name}</extra>",
                yaxis="y2",
            )
        )
    fig = _layout(fig, title, x_title="Time (UTC)")
    _update(
        fig["layout"],
        {
            "yaxis": {"title": {"text": "Moderation actions"}},
            "yaxis2": {"title": {"text": "Mean toxicity (0..1)"}, "showgrid": False},
        },
    )
    return break_quiet_spans(fig)


def _action_label(action: str, seconds: Any) -> str:
    """`timeout (600 s)`, `ban (permanent)`; deletes and clears have no duration."""
    if action == "timeout" and pd.notna(seconds):
        return f"timeout ({int(seconds)} s)"
    return "ban (permanent)" if action == "ban" else action


def moderation_effect(df: pd.DataFrame) -> Figure:
    """Chat toxicity in the 5 minutes before vs after each action: below the diagonal = calmer."""
    title = "Did chat calm down? Toxicity 5 min before vs after each action"
    rows = df.dropna(subset=["chat_toxicity_before_5m", "chat_toxicity_after_5m"])
    if rows.empty:
        return empty(title, "No moderation actions with toxicity before and after")
    both = [*_num(rows["chat_toxicity_before_5m"]), *_num(rows["chat_toxicity_after_5m"])]
    top = max([v for v in both if v is not None] + [0.05]) * 1.1
    fig = _figure(
        _trace(
            "scatter",
            x=[0, top],
            y=[0, top],
            mode="lines",
            name="No change",
            line={"color": "rgba(128,128,128,.6)", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    # One trace per action and channel, so the page's channel filter applies; one legend entry
    # per action.
    for i, (action, of_action) in enumerate(rows.groupby("action_type", sort=True)):
        for j, (channel, part) in enumerate(of_action.groupby("channel", sort=True)):
            fig["data"].append(
                _trace(
                    "scatter",
                    x=_num(part["chat_toxicity_before_5m"]),
                    y=_num(part["chat_toxicity_after_5m"]),
                    mode="markers",
                    name=esc(action),
                    legendgroup=esc(action),
                    showlegend=j == 0,
                    marker={"color": color_of(i + 3), "size": 8, "opacity": 0.75},
                    meta={"channel": str(channel)},
                    hovertemplate=(
                        f"#{esc(channel)} {esc(action)}"
                        "<br>before %{x:.3f} → after %{y:.3f}<extra></extra>"
                    ),
                )
            )
    return _layout(
        fig,
        title,
        x_title="Mean chat toxicity, 5 min before",
        y_title="Mean chat toxicity, 5 min after",
        hovermode="closest",
    )


def moderation_categories(df: pd.DataFrame) -> Figure:
    """Action types per channel (left, x/y), and timeout lengths (right, x2/y2)."""
    title = "Moderation actions by type and channel, and timeout lengths (all channels)"
    if df.empty:
        return empty(title, "No moderation actions")
    fig = _figure(grid=MODERATION_PANELS)
    counts = (
        cast(pd.Series, df.groupby(["channel", "action_type"]).size()).rename("n").reset_index()
    )
    for i, (action, part) in enumerate(counts.groupby("action_type", sort=True)):
        fig["data"].append(
            _trace(
                "bar",
                x=[f"#{esc(c)}" for c in part["channel"]],
                y=_num(part["n"]),
                name=esc(action),
                marker={"color": color_of(i + 3)},
                legendgroup="type",
                hovertemplate="%{x}: %{y} " + esc(action) + "<extra></extra>",
            )
        )
    bins = [0, 60, 600, 3600, 86400, float("inf")]
    labels = ["≤1 min", "1–10 min", "10–60 min", "1–24 h", ">1 day"]
    durations = df.loc[df["action_type"] == "timeout", "duration_seconds"].dropna().astype(float)
    cut = pd.cut(durations, bins=bins, labels=labels, include_lowest=True)
    hist = pd.Series(cut).value_counts().reindex(labels, fill_value=0)
    fig["data"].append(
        _trace(
            "bar",
            x=labels,
            y=_num(hist),
            name="Timeouts",
            marker={"color": PALETTE[4]},
            showlegend=False,
            hovertemplate="%{x}: %{y} timeouts<extra></extra>",
            xaxis="x2",
            yaxis="y2",
        )
    )
    fig = _layout(fig, title, hovermode="closest", height=360)
    fig["layout"]["barmode"] = "stack"
    _update(
        fig["layout"],
        {"yaxis": {"title": {"text": "Actions"}}, "yaxis2": {"title": {"text": "Timeouts"}}},
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Comparison


def similarity_matrix(
    df: pd.DataFrame,
    channels: Sequence[str],
    column: str,
    title: str,
    *,
    unit: str = "",
    diagonal: float | None = 1.0,
) -> Figure:
    if df.empty or len(channels) < 2:
        return empty(title, "Needs at least two channels")
    index = {c: i for i, c in enumerate(channels)}
    z: list[list[float | None]] = [[None] * len(channels) for _ in channels]
    for i in range(len(channels)):
        z[i][i] = diagonal
    for r in df.to_dict(orient="records"):
        a, b = index.get(str(r["channel_a"])), index.get(str(r["channel_b"]))
        value = r[column]
        if a is None or b is None or value is None or pd.isna(value):
            continue
        z[a][b] = z[b][a] = float(value)
    labels = [f"#{esc(c)}" for c in channels]
    fig = _figure(
        _trace(
            "heatmap",
            z=z,
            x=labels,
            y=labels,
            colorscale=PURPLES,
            **_set(zmin=0, zmax=None if diagonal is None else 1),
            xgap=2,
            ygap=2,
            text=[
                [
                    ("" if v is None else f"{v:.2f}" if diagonal is not None else f"{v:,.0f}")
                    for v in row
                ]
                for row in z
            ],
            texttemplate="%{text}",
            hovertemplate="%{y} vs %{x}: %{z:.3f}" + unit + "<extra></extra>",
            colorbar={"thickness": 12},
        )
    )
    fig = _layout(fig, title, hovermode="closest", height=max(300, 140 + 60 * len(channels)))
    _axes(fig, "y", autorange="reversed", showgrid=False, rangemode=None)
    _axes(fig, "x", showgrid=False)
    return fig


def signature_radar(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """Signatures side by side, each metric scaled to the largest channel's value."""
    title = "Chat signatures side by side (1 = the highest channel)"
    if df.empty:
        return empty(title)
    metrics = [
        ("mean_message_length", "Message length", "{:.1f} chars"),
        ("emote_message_share", "Emote share", "{:.0%}"),
        ("sentiment01", "Sentiment", "{:.2f}"),
        ("toxicity_rate", "Toxicity", "{:.1%}"),
        ("vocabulary_size", "Vocabulary", "{:,.0f} words"),
        ("messages_per_chatter", "Msgs/chatter", "{:.1f}"),
    ]
    data = df.copy()
    data["sentiment01"] = (data["mean_sentiment"].astype(float) + 1) / 2
    data["messages_per_chatter"] = data["message_count"].astype(float) / data[
        "chatter_count"
    ].astype(float).where(data["chatter_count"] > 0)
    # Each metric's highest value across channels: the radar's 1.
    tops = {
        column: max((v for v in _num(data[column]) if v is not None), default=0.0)
        for column, _, _ in metrics
    }
    labels = [m[1] for m in metrics]
    fig = _figure()
    for r in data.to_dict(orient="records"):
        values, hover = [], []
        for column, label, fmt in metrics:
            raw = _num([r[column]])[0]
            top = tops[column]
            values.append(raw / top if raw is not None and top else 0.0)
            shown = fmt.format(raw) if raw is not None else "n/a"
            if column == "sentiment01" and raw is not None:
                shown = f"{float(r['mean_sentiment']):.2f} (-1..1)"
            hover.append(f"{label}: {shown}")
        fig["data"].append(
            _trace(
                "scatterpolar",
                r=[*values, values[0]],
                theta=[*labels, labels[0]],
                name=f"#{esc(r['channel'])}",
                fill="toself",
                opacity=0.6,
                line=_set(color=colors.get(str(r["channel"]))),
                meta={"channel": str(r["channel"])},
                text=[*hover, hover[0]],
                hovertemplate="%{text}<extra>%{fullData.name}</extra>",
            )
        )
    fig = _layout(fig, title, hovermode="closest", height=420)
    fig["layout"]["polar"] = {
        "radialaxis": {"range": [0, 1], "showticklabels": False},
        "bgcolor": "rgba(0,0,0,0)",
    }
    return fig


def activity_by_hour(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    title = "Share of each channel's messages by hour of day (UTC)"
    if df.empty:
        return empty(title)
    fig = _figure()
    for r in df.to_dict(orient="records"):
        values = _num(_json_list(r["activity_by_hour"]))
        fig["data"].append(
            _trace(
                "scatter",
                x=list(range(len(values))),
                y=[None if v is None else v * 100 for v in values],
                name=f"#{esc(r['channel'])}",
                mode="lines+markers",
                line=_set(color=colors.get(str(r["channel"])), shape="spline"),
                meta={"channel": str(r["channel"])},
                hovertemplate="%{x}:00 UTC: %{y:.1f}%<extra>%{fullData.name}</extra>",
            )
        )
    fig = _layout(fig, title, x_title="Hour of day (UTC)", y_title="Share of messages (%)")
    _axes(fig, "x", dtick=2, range=[-0.5, 23.5])
    return fig


def _json_list(value: object) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        return [value.get(str(i), 0) for i in range(24)]
    return list(value) if isinstance(value, list | tuple) else []


def hours_loaded(df: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """Messages per hourly partition and channel: which hours reached the marts."""
    title = "Chat loaded per hourly partition"
    if df.empty:
        return empty(title, "No hours loaded yet")
    hours = df.assign(hour=pd.to_datetime(df["window_start_at"], utc=True).dt.floor("h"))
    assert isinstance(hours, pd.DataFrame)
    per_hour = cast(
        pd.DataFrame, hours.groupby(["channel", "hour"], as_index=False)["message_count"].sum()
    )
    fig = _figure()
    for channel, rows in per_hour.groupby("channel", sort=True):
        fig["data"].append(
            _trace(
                "bar",
                x=utc(rows["hour"]),
                y=_num(rows["message_count"]),
                name=f"#{esc(channel)}",
                marker=_set(color=colors.get(str(channel))),
                meta={"channel": str(channel)},
                hovertemplate="%{x|%Y-%m-%d %H}:00 UTC: %{y:,} messages"
                "<extra>%{fullData.name}</extra>",
            )
        )
    fig = _layout(fig, title, x_title="Hour (UTC)", y_title="Messages", hovermode="closest")
    fig["layout"]["barmode"] = "stack"
    return break_quiet_spans(fig)
