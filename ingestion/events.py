"""The one chat event model every source maps into.

A `ChatEvent` is one thing that happened in a channel's chat: a message, a moderation action, a
user notice (sub, raid, ...), a notice or a room state change, or a JOIN/PART. Each source
(live IRC, EventSub, justlog/rustlog, VOD exports) has a parser that yields `ChatEvent`s or
`Reject`s; the loader writes both, so no input is ever silently dropped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# Beyond these bounds (1970 .. year 3000) `datetime.fromtimestamp` raises OSError or
# OverflowError; a parser turns a timestamp outside them into a reject instead.
_MAX_EPOCH_SECONDS = 32_503_680_000


def utc_from_epoch(seconds: float) -> datetime:
    """Epoch seconds as an aware UTC datetime; ValueError outside 1970 .. year 3000."""
    if not 0 <= seconds < _MAX_EPOCH_SECONDS:
        raise ValueError(f"timestamp {seconds!r} s is outside 1970 .. 3000")
    return datetime.fromtimestamp(seconds, tz=UTC)


class EventType(StrEnum):
    MESSAGE = "message"  # PRIVMSG or a VOD comment
    TIMEOUT = "timeout"  # CLEARCHAT with ban-duration
    BAN = "ban"  # CLEARCHAT with a target and no duration
    CLEAR = "clear"  # CLEARCHAT without a target: the whole chat was cleared
    DELETE = "delete"  # CLEARMSG: one message deleted
    USERNOTICE = "usernotice"  # subs, resubs, gifts, raids, announcements, ...
    NOTICE = "notice"
    ROOMSTATE = "roomstate"
    JOIN = "join"
    PART = "part"


MODERATION_TYPES = frozenset({EventType.TIMEOUT, EventType.BAN, EventType.CLEAR, EventType.DELETE})


@dataclass(frozen=True, slots=True)
class EmoteOccurrence:
    """A native Twitch emote at code-point positions [start, end] (inclusive) of the text."""

    emote_id: str
    start: int
    end: int
    code: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.emote_id, "start": self.start, "end": self.end, "code": self.code}


@dataclass(slots=True)
class ChatEvent:
    """One chat event; `event_id` is unique per channel across all sources."""

    event_id: str
    channel: str
    event_type: EventType
    sent_at: datetime  # timezone-aware UTC
    source: str  # irc, eventsub, justlog, gql, twitchdownloader, rechat_v5, chat_downloader, text
    raw: str  # the original line or JSON record, so staging can be rebuilt without re-reading
    channel_id: str | None = None
    user_id: str | None = None
    user_login: str | None = None
    display_name: str | None = None
    text: str | None = None
    is_action: bool = False
    emotes: list[EmoteOccurrence] = field(default_factory=list)
    badges: dict[str, str] = field(default_factory=dict)
    badge_info: dict[str, str] = field(default_factory=dict)
    bits: int = 0
    is_first_message: bool = False
    reply_parent_id: str | None = None
    source_channel_id: str | None = None  # shared chat: the channel the message was sent in
    notice_kind: str | None = None  # USERNOTICE/NOTICE msg-id
    target_user_id: str | None = None
    target_user_login: str | None = None
    target_message_id: str | None = None
    duration_seconds: int | None = None
    params: dict[str, str] = field(default_factory=dict)  # msg-param-* and other extra fields

    @property
    def subscriber_months(self) -> int | None:
        months = self.badge_info.get("subscriber")
        return int(months) if months and months.isdigit() else None


@dataclass(frozen=True, slots=True)
class Reject:
    """An input record that could not be parsed; it goes to quarantine with its reason."""

    source: str
    raw: bytes
    reason: str
    line_no: int | None = None
    channel: str | None = None


_VARIABLE_PARTS = re.compile(r"'[^']*'|\"[^\"]*\"|(?<![\w-])[+-]?\d[\w:.+-]*")


def reason_kind(reason: str) -> str:
    """A reject reason without its values (quoted text, numbers, times), to count rejects by
    kind: `invalid UTF-8 at byte 7` -> `invalid UTF-8 at byte …`."""
    return _VARIABLE_PARTS.sub("…", reason.split(": ", 1)[0])[:80]


def synthetic_event_id(*parts: str) -> str:
    """A stable id for events that carry none (CLEARCHAT, JOIN, ...): same input, same id."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=12)
    return "x-" + digest.hexdigest()


def clamp_emote(emote_id: str, start: int, end: int, text: str) -> EmoteOccurrence | None:
    """IRC emote positions count code points with an inclusive end and may run past the text."""
    length = len(text)
    if start < 0 or start >= length or end < start:
        return None
    end = min(end, length - 1)
    return EmoteOccurrence(emote_id, start, end, text[start : end + 1])
