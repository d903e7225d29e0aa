"""Page writing shared by every page module: the Jinja2 environment, slugs, links and nav."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

NAV = [
    ("index.html", "Overview"),
    ("emotes.html", "Emotes"),
    ("community.html", "Community"),
    ("moderation.html", "Moderation"),
    ("comparison.html", "Comparison"),
    ("data.html", "Data"),
    ("catalog/index.html", "Catalog"),
]


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a template typo fails the build instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["ts"] = fmt_ts
    env.filters["utc_date"] = lambda value: utc_text(value, "%Y-%m-%d")
    env.filters["dur"] = fmt_duration
    env.filters["secs"] = fmt_seconds
    env.filters["text"] = fmt_text
    env.tests["missing"] = _missing
    return env


def _missing(value: Any) -> bool:
    """None, NaN, NaT or NA, shown as a dash by the filters below (run once per table cell)."""
    if value is None:
        return True
    if isinstance(value, float):  # the common cells first: pd.isna costs ~10x more
        return value != value
    if isinstance(value, int | str | list | dict):
        return False
    return bool(pd.isna(value))


def fmt_num(value: Any, digits: int = 0) -> str:
    if type(value) is int:  # the common cells, without the general checks
        return f"{value:,.{digits}f}"
    if _missing(value):
        return "–"
    text = f"{float(value):,.{digits}f}"
    # A tiny negative rounds to "-0.000": no change, so no sign.
    return text[1:] if text[0] == "-" and not text.strip("-0.,") else text


def fmt_text(value: Any) -> str:
    """Text, or a dash when missing or empty (NaN is truthy: `x or` a dash would print "nan")."""
    return "–" if _missing(value) or value == "" else str(value)


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{float(value) * 100:.{digits}f}%"


def utc_text(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An aware timestamp in UTC, formatted; "" when missing."""
    if _missing(value):
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:  # also pd.Timestamp; fast path
        return value.astimezone(UTC).strftime(pattern)
    return pd.Timestamp(value).tz_convert("UTC").strftime(pattern)


def fmt_ts(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return utc_text(value, pattern) + " UTC" if not _missing(value) else "–"


def fmt_seconds(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):,.0f} s"


def fmt_duration(minutes: Any) -> str:
    if _missing(minutes):
        return "–"
    total = round(float(minutes))
    return f"{total // 60} h {total % 60:02d} min" if total >= 60 else f"{total} min"


@functools.lru_cache(maxsize=65536)
def channel_slug(channel: str) -> str:
    """A file name for a channel; names that needed changing get a hash so they stay unique."""
    slug = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in channel.lower()
    )[:60]
    if slug != channel or not slug:
        slug = f"{slug}-{hashlib.sha1(channel.encode()).hexdigest()[:8]}"
    return slug


def stream_slug(channel: str, started_at: Any) -> str:
    return f"{channel_slug(channel)}-{utc_text(started_at, '%Y%m%d-%H%M')}"


def latest_stream_pages(streams: pd.DataFrame, per_channel: int) -> dict[str, str]:
    """Page paths of each channel's latest `per_channel` streams, by stream id. Older streams
    stay in the channel's table without a page, so a daily build does not grow with history."""
    if streams.empty or per_channel <= 0:
        return {}
    latest = streams.sort_values("started_at", ascending=False).groupby("channel").head(per_channel)
    return {
        str(sid): f"streams/{stream_slug(str(channel), started)}.html"
        for sid, channel, started in zip(
            latest["stream_id"], latest["channel"], latest["started_at"], strict=True
        )
    }


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """`ch.name`/`ch.href` in templates: attributes, which Jinja finds without the failed
    getattr a dict costs (one per link per page adds up at 1,000 channels)."""

    name: str
    href: str


@dataclass
class Site:
    """Writes pages into the staging folder with the context every template shares."""

    out_dir: Path
    env: Environment
    channels: Sequence[str]
    built_at: datetime
    last_event_at: Any
    period: tuple[str, str]
    privacy_note: str
    pages: list[str] = field(default_factory=list)
    stream_pages: dict[str, str] = field(default_factory=dict)  # stream id -> page path

    @functools.cached_property
    def channel_links(self) -> list[ChannelLink]:
        """The channel bar every page shows: built once, rendered on every page."""
        return [ChannelLink(c, f"channels/{channel_slug(c)}.html") for c in self.channels]

    def write(self, path: str, template: str, **context: Any) -> None:
        target = self.out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        html = self.env.get_template(template).render(
            root="../" * path.count("/"),
            page=path,
            nav=NAV,
            channel_links=self.channel_links,
            built_at=self.built_at.strftime("%Y-%m-%d %H:%M UTC"),
            last_event_at=fmt_ts(self.last_event_at),
            period=self.period,
            privacy_note=self.privacy_note,
            **context,
        )
        target.write_text(html, encoding="utf-8")
        self.pages.append(path)
