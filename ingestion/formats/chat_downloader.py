"""chat-downloader (xenova) Twitch items, from its JSON array or JSONL output.

An item is `{message_id, message, timestamp (epoch µs), time_in_seconds, message_type,
author{id, name, display_name, badges[{name, version}]}, emotes[{id, name, locations?}]}`.
`message_type` says what happened: chat text, a sub-type notice, or a moderation action.
Emotes without `locations` are found as whitespace-separated tokens equal to their name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ingestion.events import ChatEvent, EmoteOccurrence, EventType, Reject, clamp_emote
from ingestion.events import synthetic_event_id as sid
from ingestion.formats._common import (
    FormatError,
    badge_pairs,
    from_epoch,
    load_record,
    login_of,
    obj,
    opt_int,
    opt_list,
    opt_obj,
    opt_str,
    run,
)

SOURCE = "chat_downloader"

MESSAGE_TYPES = frozenset({"text_message", "action", "highlighted_message"})
# chat-downloader's names for USERNOTICE kinds, mapped back to Twitch's msg-id.
NOTICE_KINDS = {
    "subscription": "sub",
    "resubscription": "resub",
    "subscription_gift": "subgift",
    "mystery_subscription_gift": "submysterygift",
    "anonymous_subscription_gift": "anonsubgift",
    "gift_paid_upgrade": "giftpaidupgrade",
    "prime_paid_upgrade": "primepaidupgrade",
    "raid": "raid",
    "unraid": "unraid",
    "ritual": "ritual",
    "bits_badge_tier": "bitsbadgetier",
    "announcement": "announcement",
}
BAN_TYPES = frozenset({"ban_user", "timeout_user", "timeout"})
DELETE_TYPES = frozenset({"message_deleted", "delete_message", "clear_message"})
CLEAR_TYPES = frozenset({"clear_chat"})
_RANGE = re.compile(r"(\d{1,9})-(\d{1,9})")


def _emotes(items: list[Any], text: str) -> list[EmoteOccurrence]:
    found: list[EmoteOccurrence] = []
    for i, raw in enumerate(items):
        emote = obj(raw, f"emote {i}")
        emote_id = opt_str(emote.get("id"))
        if not emote_id:
            continue
        locations = emote.get("locations")
        ranges: list[tuple[int, int]] = []
        if isinstance(locations, list):
            for loc in locations:
                if isinstance(loc, str) and (m := _RANGE.fullmatch(loc.strip())):
                    ranges.append((int(m[1]), int(m[2])))
        elif (name := opt_str(emote.get("name"))) is not None:
            ranges = [(m.start(), m.end() - 1) for m in re.finditer(r"\S+", text)
                      if m.group() == name]  # fmt: skip
        for start, end in ranges:
            if (occ := clamp_emote(emote_id, start, end, text)) is not None:
                found.append(occ)
    found.sort(key=lambda o: o.start)
    return found


def _target(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (id, login) of the user a moderation action targets."""
    for key in ("target_user", "banned_user", "target"):
        value = item.get(key)
        if isinstance(value, dict):
            return opt_str(value.get("id")), login_of(opt_str(value.get("name")))
        if isinstance(value, str):
            return opt_str(item.get("target_user_id")), login_of(value)
    author = opt_obj(item.get("author"), "author")
    return opt_str(item.get("target_user_id")) or opt_str(author.get("id")), login_of(
        opt_str(author.get("name"))
    )


def parse_record(text: str) -> ChatEvent:
    value, ctx = load_record(text)
    item = obj(value, "item")
    channel = login_of(opt_str(ctx.get("channel")) or opt_str(item.get("channel")))
    if not channel:
        raise FormatError("no channel login (items carry none; import with a channel hint)")
    sent_at = from_epoch(item.get("timestamp"), 1_000_000, "timestamp")
    kind = opt_str(item.get("message_type")) or opt_str(item.get("action_type")) or "text_message"
    author = opt_obj(item.get("author"), "author")
    body = item.get("message")
    body = body if isinstance(body, str) else None
    common: dict[str, Any] = {
        "channel": channel,
        "sent_at": sent_at,
        "source": SOURCE,
        "raw": text,
        "channel_id": opt_str(item.get("channel_id")) or opt_str(ctx.get("channel_id")),
        "params": {k: v for k in ("time_in_seconds",) if (v := opt_str(item.get(k)))},
    }
    ts = str(item.get("timestamp"))
    if kind in BAN_TYPES or kind in CLEAR_TYPES:
        duration = opt_int(item.get("ban_duration")) or None
        target_id, target_login = _target(item)
        if kind in CLEAR_TYPES:
            event_type, target_id, target_login = EventType.CLEAR, None, None
        else:
            event_type = EventType.TIMEOUT if duration else EventType.BAN
        return ChatEvent(
            event_id=sid(channel, event_type, target_login or "", ts),
            event_type=event_type,
            target_user_id=target_id,
            target_user_login=target_login,
            duration_seconds=duration,
            **common,
        )
    if kind in DELETE_TYPES:
        target_msg = opt_str(item.get("target_message_id"))
        if not target_msg:
            raise FormatError(f"{kind} without target_message_id")
        return ChatEvent(
            event_id=sid(channel, "delete", target_msg),
            event_type=EventType.DELETE,
            target_message_id=target_msg,
            target_user_login=_target(item)[1],
            text=body,
            **common,
        )
    user = {
        "user_id": opt_str(author.get("id")),
        "user_login": login_of(opt_str(author.get("name"))),
        "display_name": opt_str(author.get("display_name")),
        "badges": badge_pairs(opt_list(author.get("badges"), "author.badges"), ("name",)),
        "emotes": _emotes(opt_list(item.get("emotes"), "emotes"), body or ""),
        "text": body,
    }
    event_id = opt_str(item.get("message_id")) or sid(
        channel, kind, ts, user["user_id"] or "", body or ""
    )
    if kind in MESSAGE_TYPES:
        if body is None:
            raise FormatError("chat message without text")
        return ChatEvent(
            event_id=event_id,
            event_type=EventType.MESSAGE,
            is_action=kind == "action" or item.get("is_action") is True,
            bits=opt_int(item.get("bits")),
            is_first_message=item.get("is_first_message") is True,
            **user,
            **common,
        )
    # Every other type (subs, raids, unknown future kinds) is a user notice keeping its kind.
    return ChatEvent(
        event_id=event_id,
        event_type=EventType.USERNOTICE,
        notice_kind=NOTICE_KINDS.get(kind, kind),
        **user,
        **common,
    )


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)
