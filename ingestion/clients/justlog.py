"""Historical chat from justlog- and rustlog-compatible servers, fetched hour by hour.

justlog serves whole UTC days (`/channel/{name}/{y}/{m}/{d}?raw`), rustlog additionally a
range (`/channel/{name}?from=...&to=...&raw`). `fetch_hours` asks for exactly the hours a
partition needs and keeps only lines whose `tmi-sent-ts` falls inside them; the lines are raw
IRC, so they land under source `irc` next to the live capture (deduplicated by message id).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ingestion.clients.landing_sink import LandingSink, irc_dedup_key
from ingestion.events import utc_from_epoch
from ingestion.irc import split_tags, tag_time
from ingestion.landing import hour_floor
from twitch_warehouse.logging import get_logger

log = get_logger(__name__)


TimeStyle = Literal["rfc3339", "unix"]
Flavor = Literal["justlog", "rustlog"]


class JustlogError(RuntimeError):
    """A log request failed for good; the message names the URL path and status."""


_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(value: str | float | int) -> datetime:
    """RFC 3339 (`2019-09-15T00:00:00.501Z`) or unix seconds/milliseconds, as UTC."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        number = float(value)
        if abs(number) > 1e11:  # milliseconds
            number /= 1000
        return utc_from_epoch(number)
    text = value.strip().replace("Z", "+00:00")
    # Python 3.11 takes at most 6 fraction digits; servers send up to 9 (before any offset).
    text = _LONG_FRACTION.sub(r"\1", text)
    parsed = datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def line_time(line: str) -> datetime | None:
    """When a raw line was sent, as the parser will read it (`ingestion.irc.tag_time`), so a
    line lands in the hour the loader expects it in."""
    if not line.startswith("@"):
        return None
    try:
        return tag_time(split_tags(line[1 : line.find(" ")]))
    except ValueError:
        return None  # untimed: kept aside, like a line without the tag


def format_time(ts: datetime, style: TimeStyle) -> str:
    ts = ts.astimezone(UTC)
    return str(int(ts.timestamp())) if style == "unix" else ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FetchResult:
    lines_by_hour: dict[datetime, list[str]] = field(default_factory=dict)
    landed: int = 0
    duplicates: int = 0
    outside: int = 0  # lines of the fetched days outside the requested hours
    untimed: list[str] = field(default_factory=list)  # no timestamp: cannot be placed in an hour

    @property
    def lines(self) -> int:
        return sum(len(v) for v in self.lines_by_hour.values())


class JustlogClient:
    def __init__(
        self,
        base_url: str,
        *,
        flavor: Flavor = "justlog",
        range_time_style: TimeStyle = "rfc3339",
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.flavor: Flavor = flavor
        self.range_time_style: TimeStyle = range_time_style
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self._owns_http = http is None
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> JustlogClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response | None:
        """GET with retries on 5xx and timeouts; None for 404 (no logs for that day)."""
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._http.get(self.base_url + path, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 404:
                    return None
                if response.status_code < 300:
                    return response
                if response.status_code < 500 and response.status_code != 429:
                    raise JustlogError(f"GET {path} failed: HTTP {response.status_code}")
                last = f"HTTP {response.status_code}"
            if attempt < self.max_attempts:
                delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                log.warning("justlog.retry", path=path, reason=last, attempt=attempt)
                await asyncio.sleep(delay)
        raise JustlogError(f"GET {path} failed after {self.max_attempts} attempts: {last}")

    async def channels(self) -> list[dict[str, Any]]:
        response = await self._get("/channels")
        return (response.json().get("channels") or []) if response is not None else []

    async def available_logs(self, channel: str) -> list[dict[str, str]]:
        """`/list?channel=`: [{year, month[, day]}] (justlog lists months, rustlog days)."""
        response = await self._get("/list", {"channel": channel.lower()})
        return (response.json().get("availableLogs") or []) if response is not None else []

    def _channel_path(self, channel: str) -> str:
        return f"/channel/{quote(channel.lower())}"

    async def day_lines(self, channel: str, day: date) -> list[str]:
        path = f"{self._channel_path(channel)}/{day.year}/{day.month}/{day.day}"
        response = await self._get(path, {"raw": ""})
        return _split(response.text) if response is not None else []

    async def day_messages(self, channel: str, day: date) -> list[dict[str, Any]]:
        """`?json`: message objects with `raw` and `timestamp` (RFC 3339 or unix)."""
        path = f"{self._channel_path(channel)}/{day.year}/{day.month}/{day.day}"
        response = await self._get(path, {"json": ""})
        return (response.json().get("messages") or []) if response is not None else []

    async def range_lines(self, channel: str, start: datetime, end: datetime) -> list[str]:
        """rustlog's `from`/`to` range (inclusive on the server side; filtered by the caller)."""
        params = {
            "from": format_time(start, self.range_time_style),
            "to": format_time(end, self.range_time_style),
            "raw": "",
        }
        response = await self._get(self._channel_path(channel), params)
        return _split(response.text) if response is not None else []

    async def fetch_hours(
        self,
        channel: str,
        start: datetime,
        end: datetime,
        *,
        landing_root: Path | None = None,
    ) -> FetchResult:
        """Lines with a timestamp in [start, end), grouped by hour; landed when a root is given."""
        start, end = hour_floor(start), end.astimezone(UTC)
        if self.flavor == "rustlog":
            lines = await self.range_lines(channel, start, end)
        else:
            lines = []
            day = start.date()
            while datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
                lines += await self.day_lines(channel, day)
                day += timedelta(days=1)
        result = FetchResult()
        grouped: dict[datetime, list[str]] = defaultdict(list)
        for line in lines:
            ts = line_time(line)
            if ts is None:
                result.untimed.append(line)
            elif start <= ts < end:
                grouped[hour_floor(ts)].append(line)
            else:
                result.outside += 1
        result.lines_by_hour = dict(sorted(grouped.items()))
        if result.untimed:
            log.warning("justlog.untimed_lines", channel=channel, count=len(result.untimed))
        if landing_root is not None:
            sink = LandingSink(landing_root, "irc", irc_dedup_key, batch_size=500)
            # Lines without a send time land in the range's first hour, whose load quarantines
            # them with the reason: nothing fetched is lost without a trace.
            landing = [*result.lines_by_hour.items(), (start, result.untimed)]
            try:
                for hour, hour_lines in landing:
                    for line in hour_lines:
                        if sink.write(channel.lower(), hour, line):
                            result.landed += 1
                        else:
                            result.duplicates += 1
            finally:
                sink.close()
        return result


def _split(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
