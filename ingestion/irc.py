"""Exact parsing of Twitch IRCv3 lines (live capture, justlog/rustlog raw logs) into chat events.

Covers tag unescaping, `emotes` positions in code points with inclusive ends (clamped), `/me`
actions, replies, bits, badges and badge-info, first messages, shared chat, CLEARCHAT
timeouts/bans/clear-all, CLEARMSG with its target, every USERNOTICE `msg-id` with its
`msg-param-*` fields, NOTICE, ROOMSTATE and JOIN/PART.

Landing files may prefix a line with the receive time (`<epoch-ms>\t`), written by the collector
for lines that carry no `tmi-sent-ts` of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ingestion.events import (
    ChatEvent,
    EventType,
    Reject,
    clamp_emote,
    synthetic_event_id,
    utc_from_epoch,
)

SOURCE = "irc"

_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
# Connection chatter that is not a chat event; skipped, not rejected.
_IGNORED_COMMANDS = frozenset(
    {
        "PING",
        "PONG",
        "CAP",
        "GLOBALUSERSTATE",
        "USERSTATE",
        "RECONNECT",
        "HOSTTARGET",
        "WHISPER",
        "001",
        "002",
        "003",
        "004",
        "353",
        "366",
        "372",
        "375",
        "376",
        "421",
    }
)


class IrcParseError(ValueError):
    """A line that is not valid Twitch IRC; the message says why."""


@dataclass(frozen=True, slots=True)
class IrcMessage:
    tags: dict[str, str]
    prefix: str | None
    command: str
    params: list[str]


def unescape_tag_value(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            if i + 1 < n:
                nxt = value[i + 1]
                out.append(_UNESCAPES.get(nxt, nxt))
            i += 2  # a trailing lone backslash is dropped
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def split_tags(tag_part: str) -> dict[str, str]:
    """`a=1;b=x\\sy` -> {'a': '1', 'b': 'x y'}; an item without `=` has an empty value."""
    try:
        # The common case in one C-level call: every item holds a `=` (a key may repeat: the
        # last value wins, as in the loop below).
        tags = dict([item.split("=", 1) for item in tag_part.split(";")])
    except ValueError:  # an empty item or one without `=`
        tags = {}
        for item in tag_part.split(";"):
            if item:
                key, _, value = item.partition("=")
                tags[key] = value
    if "\\" in tag_part:  # most lines hold no escapes at all
        for key, value in tags.items():
            if "\\" in value:
                tags[key] = unescape_tag_value(value)
    return tags


def tokenize(line: str) -> IrcMessage:
    """Split one IRC line into tags, prefix, command and params (the last may contain spaces)."""
    line = line.rstrip("\r\n")
    if not line:
        raise IrcParseError("empty line")
    if "\x00" in line:
        raise IrcParseError("NUL byte in line")
    tags: dict[str, str]
    if line[0] == "@":
        space = line.find(" ")
        if space < 0:
            raise IrcParseError("tags without a command")
        tags = split_tags(line[1:space])
        rest = line[space + 1 :].lstrip(" ")
    else:
        tags = {}
        rest = line
    prefix = None
    if rest[:1] == ":":
        space = rest.find(" ")
        if space < 0:
            raise IrcParseError("prefix without a command")
        prefix = rest[1:space]
        rest = rest[space + 1 :].lstrip(" ")
    trailing = None
    colon = rest.find(" :")
    if colon >= 0:
        trailing = rest[colon + 2 :]
        rest = rest[:colon]
    elif rest[:1] == ":":
        trailing, rest = rest[1:], ""
    parts = rest.split()
    if not parts:
        raise IrcParseError("no command")
    command = parts[0].upper()
    params = parts[1:]
    if trailing is not None:
        params.append(trailing)
    return IrcMessage(tags, prefix, command, params)


def _nick(prefix: str | None) -> str | None:
    if not prefix:
        return None
    nick = prefix.split("!", 1)[0]
    return None if "." in nick else nick.lower()


_PAIRS_CACHE: dict[str, dict[str, str]] = {}


def _pairs(value: str) -> dict[str, str]:
    """`subscriber/12,premium/1` -> {'subscriber': '12', 'premium': '1'} (a fresh dict)."""
    if not value:
        return {}
    cached = _PAIRS_CACHE.get(value)
    if cached is None:
        cached = {}
        for item in value.split(","):
            name, _, version = item.partition("/")
            if name:
                cached[name] = version
        if len(_PAIRS_CACHE) < 4096:  # badge sets repeat a lot; the cache stays small
            _PAIRS_CACHE[value] = cached
    return cached.copy()


def _emotes(value: str, text: str) -> list:
    """`25:0-4,12-16/1902:6-10` -> occurrences sorted by position, clamped to the text."""
    occurrences = []
    if not value:
        return occurrences
    for group in value.split("/"):
        emote_id, _, ranges = group.partition(":")
        for rng in ranges.split(","):
            start_s, _, end_s = rng.partition("-")
            if not (start_s.isdigit() and end_s.isdigit()):
                continue
            occ = clamp_emote(emote_id, int(start_s), int(end_s), text)
            if occ is not None:
                occurrences.append(occ)
    occurrences.sort(key=lambda o: o.start)
    return occurrences


def tag_time(tags: dict[str, str]) -> datetime | None:
    """When a tagged line was sent: `tmi-sent-ts`, else the time a recent-messages service
    received it (`rm-received-ts`, up to seconds later). ValueError when out of range."""
    ts = tags.get("tmi-sent-ts") or tags.get("rm-received-ts")
    if ts and (ts.isdigit() or ts.lstrip("-").isdigit()):
        return utc_from_epoch(int(ts) / 1000)
    return None


def _timestamp(tags: dict[str, str], received_ms: int | None) -> datetime:
    if (sent_at := tag_time(tags)) is not None:
        return sent_at
    if received_ms is not None:
        return utc_from_epoch(received_ms / 1000)
    raise IrcParseError("no tmi-sent-ts tag and no receive time")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_line(
    line: str, *, received_ms: int | None = None, source: str = SOURCE
) -> ChatEvent | None:
    """One raw line to a chat event; None for connection chatter; IrcParseError when invalid."""
    raw = line.rstrip("\r\n")
    if raw[:1].isdigit() and "\t" in raw[:20]:
        ts_text, _, raw = raw.partition("\t")
        received_ms = int(ts_text) if ts_text.isdigit() else received_ms
    msg = tokenize(raw)
    command = msg.command
    if command in _IGNORED_COMMANDS:
        return None
    if not msg.params or not msg.params[0].startswith("#") or len(msg.params[0]) < 2:
        raise IrcParseError(f"{command} without a #channel")
    channel = msg.params[0][1:].lower()
    tags = msg.tags
    sent_at = _timestamp(tags, received_ms)
    text = msg.params[1] if len(msg.params) > 1 else None
    if command == "PRIVMSG":
        if text is None:
            raise IrcParseError("PRIVMSG without text")
        is_action = text.startswith("\x01ACTION ")
        if is_action:
            text = text[8:].rstrip("\x01")
        get = tags.get
        login = get("login") or _nick(msg.prefix)
        # Old logs and some relays carry no `id` tag: hash the fields that identify the message.
        msg_id = get("id") or synthetic_event_id(
            channel, "message", get("user-id") or login or "", str(sent_at.timestamp()), text
        )
        params = (  # a reply tag can only be there when its prefix is somewhere in the line
            {k: v for k, v in tags.items() if k.startswith(("reply-thread-", "reply-parent-"))}
            if "reply-" in raw
            else {}
        )
        emotes = get("emotes")
        bits = get("bits")
        # Positional, in field order: the hot path of every load (keywords cost a lot here).
        return ChatEvent(
            msg_id, channel, EventType.MESSAGE, sent_at, source, raw,
            get("room-id") or None, get("user-id") or None, login,
            get("display-name") or None, text, is_action,
            _emotes(emotes, text) if emotes else [],
            _pairs(get("badges", "")), _pairs(get("badge-info", "")),
            (int(bits) if bits.isdigit() else 0) if bits else 0,
            get("first-msg") == "1", get("reply-parent-msg-id") or None,
            get("source-room-id") or None, None, None, None, None, None, params,
        )  # fmt: skip
    base = {
        "channel": channel,
        "sent_at": sent_at,
        "source": source,
        "raw": raw,
        "channel_id": tags.get("room-id") or None,
    }
    if command == "CLEARCHAT":
        duration = _int(tags.get("ban-duration"))
        if text is None:
            event_type = EventType.CLEAR
        else:
            event_type = EventType.TIMEOUT if duration is not None else EventType.BAN
        target = text.lower() if text else None
        return ChatEvent(
            event_id=synthetic_event_id(
                channel, event_type, target or "", str(sent_at.timestamp())
            ),
            event_type=event_type,
            target_user_id=tags.get("target-user-id") or None,
            target_user_login=target,
            duration_seconds=duration,
            **base,
        )
    if command == "CLEARMSG":
        target_msg = tags.get("target-msg-id")
        if not target_msg:
            raise IrcParseError("CLEARMSG without target-msg-id")
        return ChatEvent(
            event_id=synthetic_event_id(channel, "delete", target_msg),
            event_type=EventType.DELETE,
            target_user_login=(tags.get("login") or "").lower() or None,
            target_message_id=target_msg,
            text=text,
            **base,
        )
    if command == "USERNOTICE":
        kind = tags.get("msg-id")
        if not kind:
            raise IrcParseError("USERNOTICE without msg-id")
        params = {k: v for k, v in tags.items() if k.startswith("msg-param-")}
        if "system-msg" in tags:
            params["system-msg"] = tags["system-msg"]
        body = text or ""
        return ChatEvent(
            event_id=tags.get("id") or synthetic_event_id(channel, "usernotice", raw),
            event_type=EventType.USERNOTICE,
            user_id=tags.get("user-id") or None,
            user_login=(tags.get("login") or "").lower() or None,
            display_name=tags.get("display-name") or None,
            text=text,
            emotes=_emotes(tags.get("emotes", ""), body),
            badges=_pairs(tags.get("badges", "")),
            badge_info=_pairs(tags.get("badge-info", "")),
            notice_kind=kind,
            source_channel_id=tags.get("source-room-id") or None,
            params=params,
            **base,
        )
    if command in ("NOTICE", "ROOMSTATE"):
        event_type = EventType.NOTICE if command == "NOTICE" else EventType.ROOMSTATE
        params = {k: v for k, v in tags.items() if k not in ("room-id", "tmi-sent-ts")}
        return ChatEvent(
            event_id=synthetic_event_id(channel, event_type, raw, str(sent_at.timestamp())),
            event_type=event_type,
            text=text,
            notice_kind=tags.get("msg-id") or None,
            params=params,
            **base,
        )
    if command in ("JOIN", "PART"):
        login = _nick(msg.prefix)
        event_type = EventType.JOIN if command == "JOIN" else EventType.PART
        return ChatEvent(
            event_id=synthetic_event_id(channel, event_type, login or "", str(sent_at.timestamp())),
            event_type=event_type,
            user_login=login,
            **base,
        )
    raise IrcParseError(f"unsupported command {command}")


def parse_lines(
    lines: Iterable[bytes | str], *, source: str = SOURCE, received_ms: int | None = None
) -> Iterator[ChatEvent | Reject]:
    """Parse a stream of lines; invalid ones come out as `Reject`s, nothing is dropped."""
    for line_no, line in enumerate(lines, start=1):
        raw_bytes = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
        except UnicodeDecodeError as exc:
            yield Reject(source, raw_bytes, f"invalid UTF-8 at byte {exc.start}", line_no)
            continue
        if not text.strip():
            continue
        try:
            event = parse_line(text, received_ms=received_ms, source=source)
        except (IrcParseError, ValueError, OverflowError) as exc:
            yield Reject(source, raw_bytes, f"{type(exc).__name__}: {exc}", line_no)
            continue
        if event is not None:
            yield event
