"""NormVio moderation records (Moon et al., EMNLP 2023): `normvio_*.jsonl(.gz)`.

One record per line: `{id, action, channel, labels, bad_utterance, channel_setting,
single_user_context[...], multi_user_context[...]}`. `bad_utterance` is the moderated message;
`single_user_context` holds that user's recent chat entries, `multi_user_context` the whole chat
from about 60 s before to 15 s after it. A chat entry is `{timestamp, user, display_name, message,
is_emotes_only, emotes, message_id, action}`, where `action` says what the entry is:

* `message` (or absent, in `bad_utterance`): a chat message; `emotes` is the IRC `emotes` tag
  (`id:0-4,6-10/id2:12-15`, code points, inclusive end);
* `ban` / `timeout`: a CLEARCHAT for `user` (no duration is recorded);
* `delete_message`: a CLEARMSG of `message_id` (the entry repeats the deleted text).

Timestamps are wall-clock `YYYY-MM-DD HH:MM:SS` in `channel_setting.timezone`, always `pst` in
the published data, and it is the fixed UTC-8 offset (not US Pacific daylight time): the
Aug-Sep 2022 chat holds clock-bot messages quoting a PDT time one hour after their stamps.

A record holds many events, so the importer splits it (`landing_lines`) into one landing line per
entry, each wrapped in an envelope with the channel, the timezone and the entry's part; this
module's `parse_records` reads those lines back, one event (or Reject) per line.

Ids are stable across records, whose context windows overlap: a message keeps its Twitch
`message_id`; a ban or timeout is keyed by (channel, kind, target, second), so the same action
seen in several records (or logged twice in one list, which the data often does) is one event; a
deletion is keyed by the deleted message id. The record's own `action` is the moderation of the
bad utterance; it already appears as a `ban`/`timeout` entry of that user in the contexts of every
published record, and only when it does not is it landed on its own, at the utterance's time.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ingestion.events import ChatEvent, EmoteOccurrence, EventType, Reject, clamp_emote
from ingestion.events import synthetic_event_id as sid
from ingestion.formats._common import (
    FormatError,
    envelope,
    load_record,
    login_of,
    obj,
    opt_list,
    opt_obj,
    opt_str,
    run,
)

SOURCE = "normvio"

# Fixed offsets of the zone abbreviations a record may name (the published data only uses pst).
TIMEZONES: dict[str, timezone] = {
    name: timezone(timedelta(hours=hours), name.upper())
    for name, hours in {
        "utc": 0, "gmt": 0, "pst": -8, "pdt": -7, "mst": -7, "mdt": -6, "cst": -6, "cdt": -5,
        "est": -5, "edt": -4, "cet": 1, "cest": 2, "kst": 9,
    }.items()
}  # fmt: skip
DEFAULT_TIMEZONE = "pst"
PARTS = ("bad_utterance", "single_user_context", "multi_user_context")
MODERATION_KINDS = {"ban": EventType.BAN, "timeout": EventType.TIMEOUT}
DELETE_KINDS = frozenset({"delete_message", "delete"})
MESSAGE_KINDS = frozenset({"message"})
RECORD_PART = "record_action"  # the record's own action, landed when no context entry shows it
WHOLE_RECORD = "record"  # a record too broken to split, landed whole to be rejected with a reason
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)
_RANGE = re.compile(r"(\d{1,9})-(\d{1,9})")
_DEDUP_WINDOW = 400_000  # recent entry keys remembered while splitting one file


def _zone(ctx: dict[str, Any]) -> timezone:
    name = (opt_str(ctx.get("timezone")) or DEFAULT_TIMEZONE).strip().lower()
    zone = TIMEZONES.get(name)
    if zone is None:
        raise FormatError(f"unknown timezone {name!r} (known: {', '.join(sorted(TIMEZONES))})")
    return zone


def entry_time(value: Any, zone: timezone) -> datetime:
    """`2021-04-12 13:40:06` in the record's zone (or with its own offset) to aware UTC."""
    if not isinstance(value, str) or not (m := _TIMESTAMP.fullmatch(value.strip())):
        raise FormatError(f"timestamp {value!r} is not 'YYYY-MM-DD HH:MM:SS'")
    text = re.sub(r"(\.\d{6})\d+", r"\1", m.group(0)).replace("Z", "+00:00")
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"timestamp {value!r} is not a valid date and time") from None
    ts = ts.replace(tzinfo=zone) if ts.tzinfo is None else ts
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise FormatError(f"timestamp {value!r} out of range") from None


def irc_emotes(tag: Any, text: str) -> list[EmoteOccurrence]:
    """The IRC `emotes` tag (`25:0-4,6-10/1902:12-16`) to occurrences clamped to the text."""
    if tag is None or tag == "":
        return []
    if not isinstance(tag, str):
        raise FormatError(f"emotes is {type(tag).__name__}, expected an IRC emotes tag string")
    found: list[EmoteOccurrence] = []
    for group in tag.split("/"):
        emote_id, _, ranges = group.partition(":")
        if not emote_id:
            continue
        for rng in ranges.split(","):
            if (m := _RANGE.fullmatch(rng.strip())) is not None:
                occ = clamp_emote(emote_id, int(m[1]), int(m[2]), text)
                if occ is not None:
                    found.append(occ)
    found.sort(key=lambda o: o.start)
    return found


def _entry_kind(entry: dict[str, Any], part: str) -> str:
    kind = opt_str(entry.get("action"))
    if kind is None:
        if part in (PARTS[0], RECORD_PART) or "message_id" in entry:
            return "message"
        raise FormatError("entry has no action")
    return kind.lower()


def parse_record(text: str) -> ChatEvent:
    value, ctx = load_record(text)
    if ctx.get("part") == WHOLE_RECORD or (
        not ctx and isinstance(value, dict) and not value.keys().isdisjoint(PARTS)
    ):
        check_record(value)  # says what is wrong with a broken record
        raise FormatError("a whole normvio record: import the file, which splits it into events")
    entry = obj(value, "entry")
    channel = login_of(opt_str(ctx.get("channel")) or opt_str(entry.get("channel")))
    if not channel:
        raise FormatError("no channel login (entries carry none; import the whole record)")
    part = opt_str(ctx.get("part")) or "multi_user_context"
    sent_at = entry_time(entry.get("timestamp"), _zone(ctx))
    if part == RECORD_PART:
        kind = (opt_str(ctx.get("action")) or "").lower()
        if kind not in MODERATION_KINDS:
            raise FormatError(f"record action {ctx.get('action')!r} is neither ban nor timeout")
    else:
        kind = _entry_kind(entry, part)
    login = login_of(opt_str(entry.get("user")))
    display = opt_str(entry.get("display_name"))
    message_id = opt_str(entry.get("message_id"))
    body = entry.get("message")
    if body is not None and not isinstance(body, str):
        raise FormatError(f"message is {type(body).__name__}, expected a string")
    params = {"part": part}
    if record_id := opt_str(ctx.get("record_id")):
        params["record_id"] = record_id
    common: dict[str, Any] = {"channel": channel, "sent_at": sent_at, "source": SOURCE,
                              "raw": text, "params": params}  # fmt: skip

    if kind in MODERATION_KINDS:
        if not login:
            raise FormatError(f"{kind} without a target user login")
        event_type = MODERATION_KINDS[kind]
        duration = entry.get("duration") if part != RECORD_PART else ctx.get("duration")
        seconds = duration if isinstance(duration, int) and not isinstance(duration, bool) else None
        return ChatEvent(
            event_id=sid(channel, event_type, login, sent_at.isoformat()),
            event_type=event_type,
            target_user_login=login,
            duration_seconds=seconds if seconds and seconds > 0 else None,
            **common,
        )
    if kind in DELETE_KINDS:
        if not message_id:
            raise FormatError(f"{kind} without message_id")
        return ChatEvent(
            event_id=sid(channel, "delete", message_id),
            event_type=EventType.DELETE,
            target_message_id=message_id,
            target_user_login=login,
            text=body,
            **common,
        )
    if kind not in MESSAGE_KINDS:
        raise FormatError(f"unknown action {kind!r}")
    if body is None:
        raise FormatError("message entry without message text")
    if entry.get("is_emotes_only") is True:
        params["is_emotes_only"] = "true"
    return ChatEvent(
        event_id=message_id or sid(channel, "normvio", sent_at.isoformat(), login or "", body),
        event_type=EventType.MESSAGE,
        user_login=login,
        display_name=display,
        text=body,
        emotes=irc_emotes(entry.get("emotes"), body),
        **common,
    )


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)


# --- splitting records into landing lines (used by the importer) ---------------------------------


def check_record(record: Any) -> tuple[str, str, dict[str, Any], dict[str, list[Any]]]:
    """(channel, timezone, bad utterance, {part: entries}) of a record; FormatError if broken."""
    rec = obj(record, "record")
    channel = login_of(opt_str(rec.get("channel")))
    if not channel:
        raise FormatError(f"record has no valid channel login ({rec.get('channel')!r})")
    setting = opt_obj(rec.get("channel_setting"), "channel_setting")
    zone = (opt_str(setting.get("timezone")) or DEFAULT_TIMEZONE).strip().lower()
    bad = obj(rec.get("bad_utterance"), "bad_utterance")
    parts = {p: opt_list(rec.get(p), p) for p in PARTS[1:]}
    return channel, zone, bad, parts


def _key(channel: str, zone: str, part: str, entry: Any) -> bytes | None:
    """What makes two entries the same event (mirrors the event ids); None: never merged."""
    if not isinstance(entry, dict):
        return None
    kind = (opt_str(entry.get("action")) or "message").lower()
    if kind in MODERATION_KINDS:
        parts = (kind, str(entry.get("user")), str(entry.get("timestamp")), zone)
    elif kind in MESSAGE_KINDS or kind in DELETE_KINDS:
        message_id = opt_str(entry.get("message_id"))
        if not message_id:
            return None
        parts = ("delete" if kind in DELETE_KINDS else "message", message_id)
    else:
        return None
    return hashlib.blake2b("\x1f".join((channel, *parts)).encode("utf-8", "surrogatepass"),
                           digest_size=12).digest()  # fmt: skip


def _shows_action(action: Any, bad: dict[str, Any], parts: dict[str, list[Any]]) -> bool:
    """Whether a context entry records the record's action on the bad utterance's author."""
    user, stamp = bad.get("user"), bad.get("timestamp")
    if not isinstance(stamp, str) or not isinstance(action, str):
        return False
    return any(
        isinstance(e, dict) and e.get("action") == action and e.get("user") == user
        and isinstance(e.get("timestamp"), str) and e["timestamp"] >= stamp
        for entries in parts.values() for e in entries
    )  # fmt: skip


def landing_lines(records: Iterable[Any], channel_hint: str | None = None) -> Iterator[str | bytes]:
    """Each record's entries as landing lines, repeats of recent entries left out.

    `records` are decoded JSON values (bytes for lines that are not JSON, passed through for the
    parser to reject). A record too broken to split is landed whole, and rejected with its reason.
    """
    seen: OrderedDict[bytes, None] = OrderedDict()
    for record in records:
        if isinstance(record, bytes | str):
            yield record
            continue
        if channel_hint and isinstance(record, dict) and not record.get("channel"):
            record = {**record, "channel": channel_hint}
        try:
            channel, zone, bad, parts = check_record(record)
        except FormatError:
            yield envelope(record, {"part": WHOLE_RECORD})
            continue
        rec: dict[str, Any] = record
        base = {"channel": channel, "timezone": zone, "record_id": opt_str(rec.get("id"))}
        entries = [(PARTS[0], bad)] + [(p, e) for p, es in parts.items() for e in es]
        for part, entry in entries:
            key = _key(channel, zone, part, entry)
            if key is not None:
                if key in seen:
                    seen.move_to_end(key)
                    continue
                seen[key] = None
                if len(seen) > _DEDUP_WINDOW:
                    seen.popitem(last=False)
            yield envelope(entry, {**base, "part": part})
        action = rec.get("action")
        if not _shows_action(action, bad, parts):
            ctx = {**base, "part": RECORD_PART, "action": opt_str(action) or repr(action),
                   "duration": rec.get("duration")}  # fmt: skip
            yield envelope(bad, ctx)
