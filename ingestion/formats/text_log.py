"""Plain-text chat logs: TwitchDownloader text exports and justlog text logs.

Shapes: `[H:MM:SS] name: text` (relative to the video start, which the importer puts in the
envelope), `[YYYY-MM-DD HH:MM:SS] name: text` (UTC; TwitchDownloader may add ` UTC`) and justlog's
`[YYYY-MM-D HH:MM:SS] #channel name: text` (Go's layout `2006-01-2`: days 1-9 unpadded), whose
moderation lines read `name has been timed out for 10m0s` / `name has been banned` / `chat has
been cleared`. Other lines without `name:` are system messages (sub announcements and the like)
and become NOTICE events.

Text logs carry no ids: the id hashes the line's fields plus `n`, the line's occurrence count in
its file, so two identical lines in the same second stay two events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from ingestion.events import ChatEvent, EventType, Reject
from ingestion.events import synthetic_event_id as sid
from ingestion.formats._common import (
    FormatError,
    load_record,
    login_of,
    opt_int,
    opt_str,
    parse_utc,
    run,
)

SOURCE = "text_log"

LINE = re.compile(
    r"\[(?:(?P<date>\d{4}-\d{1,2}-\d{1,2})[ T]"
    r"(?P<clock>\d{1,2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: ?UTC)?"
    r"|(?P<rel>\d{1,5}:\d{2}:\d{2}))\] (?:#(?P<channel>[A-Za-z0-9_]{1,64}) )?(?P<rest>.*)",
    re.DOTALL,
)
CHAT = re.compile(r"(?P<name>[^\s:]{1,64}): (?P<text>.*)", re.DOTALL)
MODERATION = re.compile(
    r"(?P<user>\S{1,64}) has been (?P<what>timed out|banned)(?: for (?P<dur>[^.]+))?\.?"
)
_DURATION = re.compile(r"(\d{1,9})\s*([a-zA-Z]+)")
_UNIT = {"h": 3600, "m": 60, "s": 1}


def _duration(text: str | None) -> int | None:
    """`10m0s`, `150 seconds`, `1 hour 2 minutes` to seconds; None when unreadable."""
    if not text:
        return None
    parts = [(int(n), _UNIT.get(unit[0].lower())) for n, unit in _DURATION.findall(text)]
    if not parts or any(scale is None for _, scale in parts):
        return None
    return sum(n * (scale or 0) for n, scale in parts)


def _sent_at(m: re.Match[str], start: str | None) -> datetime:
    if m["date"]:
        # justlog writes Go's `2006-01-2 15:04:05`: the day is not zero-padded.
        year, month, day = (int(part) for part in m["date"].split("-"))
        hour, rest = m["clock"].split(":", 1)
        return parse_utc(f"{year:04d}-{month:02d}-{day:02d}T{int(hour):02d}:{rest}", "timestamp")
    if not start:
        raise FormatError("relative timestamp without a video start (import with start_hint)")
    h, mi, s = (int(x) for x in m["rel"].split(":"))
    if mi > 59 or s > 59:
        raise FormatError(f"relative timestamp {m['rel']!r} out of range")
    return parse_utc(start, "video start").astimezone(UTC) + timedelta(
        hours=h, minutes=mi, seconds=s
    )


def parse_record(text: str) -> ChatEvent:
    ctx: dict = {}
    line = text
    if text.startswith(("{", '"')):  # an envelope or a bare JSON string
        value, ctx = load_record(text)
        if not isinstance(value, str):
            raise FormatError(f"record is {type(value).__name__}, expected a text line")
        line = value
    m = LINE.fullmatch(line.rstrip("\r\n"))
    if not m:
        raise FormatError("not a `[timestamp] name: text` log line")
    channel = login_of(m["channel"]) or login_of(opt_str(ctx.get("channel")))
    if not channel:
        raise FormatError("no channel (the line names none; import with a channel hint)")
    sent_at = _sent_at(m, opt_str(ctx.get("start")))
    n = str(opt_int(ctx.get("n")))
    rest = m["rest"]
    base = {"channel": channel, "sent_at": sent_at, "source": SOURCE, "raw": text}
    stamp = sent_at.isoformat()
    if chat := CHAT.fullmatch(rest):
        name, body = chat["name"], chat["text"]
        return ChatEvent(
            event_id=sid(channel, "message", stamp, name, body, n),
            event_type=EventType.MESSAGE,
            user_login=login_of(name),
            display_name=name,
            text=body,
            **base,
        )
    if mod := MODERATION.fullmatch(rest):
        target = login_of(mod["user"])
        duration = _duration(mod["dur"]) if mod["what"] == "timed out" else None
        event_type = EventType.TIMEOUT if mod["what"] == "timed out" else EventType.BAN
        return ChatEvent(
            event_id=sid(channel, event_type, target or mod["user"], stamp, n),
            event_type=event_type,
            target_user_login=target,
            duration_seconds=duration,
            **base,
        )
    if rest.strip().lower() in ("chat has been cleared", "chat has been cleared."):
        return ChatEvent(
            event_id=sid(channel, "clear", stamp, n), event_type=EventType.CLEAR, **base
        )
    return ChatEvent(
        event_id=sid(channel, "notice", stamp, rest, n),
        event_type=EventType.NOTICE,
        notice_kind="system",
        text=rest,
        **base,
    )


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)
