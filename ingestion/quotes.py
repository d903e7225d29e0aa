"""Other chatters an event names: the parent a reply quotes, the recipient of a gift sub, the
gifter a gift was paid forward for.

Twitch copies these into the event of someone else: a reply carries its parent's text and
author (IRC `reply-parent-*` and `reply-thread-parent-*` tags, EventSub's `reply` object), a
gift sub its recipient (`msg-param-recipient-*`, EventSub `recipient_user_*`), a paid-forward or
upgraded gift its first gifter (`msg-param-prior-gifter-*`, `msg-param-sender-*`, EventSub
`gifter_user_*`), and Twitch's own sentence about it names both (`system-msg`,
`system_message`). Erasing a chatter (`twitch-warehouse forget`) takes out the fields naming
them and that sentence, and keeps the event itself: the reply, the gift, its message ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ingestion.irc import split_tags


@dataclass(frozen=True)
class _Named:
    """Fields that name one other chatter: `identity` (login or user id) tells who."""

    identity: tuple[str, ...]
    details: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.identity + self.details


# IRC tag names; the rechat v5 and EventSub-flattened params keep the same names.
_IRC = (
    _Named(("reply-parent-user-login", "reply-parent-user-id"),
           ("reply-parent-msg-body", "reply-parent-display-name")),
    _Named(("reply-thread-parent-user-login", "reply-thread-parent-user-id"),
           ("reply-thread-parent-display-name",)),
    _Named(("msg-param-recipient-user-name", "msg-param-recipient-name",
            "msg-param-recipient-id"), ("msg-param-recipient-display-name",)),
    _Named(("msg-param-prior-gifter-user-name", "msg-param-prior-gifter-id"),
           ("msg-param-prior-gifter-display-name",)),
    _Named(("msg-param-sender-login",), ("msg-param-sender-name",)),
)  # fmt: skip
# EventSub field names, in whichever object holds them (`reply`, `sub_gift`, `pay_it_forward`…).
_JSON = (
    *_IRC,
    _Named(("parent_user_login", "parent_user_id"), ("parent_message_body", "parent_user_name")),
    _Named(("thread_user_login", "thread_user_id"), ("thread_user_name",)),
    _Named(("recipient_user_login", "recipient_user_id"), ("recipient_user_name",)),
    _Named(("gifter_user_login", "gifter_user_id"), ("gifter_user_name",)),
)
SYSTEM_MESSAGES = ("system-msg", "system_message")


def quoted_chatters(raw: str) -> frozenset[str]:
    """Logins (lower case) and user ids of the other chatters a line names; empty otherwise."""
    if raw.startswith("@"):
        return _identities([split_tags(raw[1:].split(" ", 1)[0])], _IRC)
    record = _json(raw)
    return _identities(list(_objects(record)), _JSON) if record is not None else frozenset()


def without_quotes_of(raw: str, names: frozenset[str] | set[str]) -> tuple[str, list[str]]:
    """The line without the fields naming any of `names` (lower-case logins or user ids) and
    without Twitch's sentence about it, and the field names taken out; the line unchanged and
    no names when it names none of them."""
    if raw.startswith("@"):
        tag_part, _, rest = raw[1:].partition(" ")
        gone = _fields_naming([split_tags(tag_part)], _IRC, names)
        if not gone:
            return raw, []
        gone |= set(SYSTEM_MESSAGES)
        kept = [t for t in tag_part.split(";") if t.split("=", 1)[0] not in gone]
        return (f"@{';'.join(kept)} {rest}" if kept else rest), sorted(gone)
    record = _json(raw)
    objects = list(_objects(record))
    gone = _fields_naming(objects, _JSON, names)
    if not gone:
        return raw, []
    gone |= set(SYSTEM_MESSAGES)
    for obj in objects:
        for key in gone & obj.keys():
            del obj[key]
    return _dumps(record), sorted(gone)


def _dumps(record: Any) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (`\ud800`) stays escaped, as it came
        return json.dumps(record, separators=(",", ":"))
    return text


def _identities(objects: list[dict[str, Any]], groups: tuple[_Named, ...]) -> frozenset[str]:
    return frozenset(
        str(obj[key]).lower()
        for obj in objects
        for group in groups
        for key in group.identity
        if obj.get(key) not in (None, "")
    )


def _fields_naming(
    objects: list[dict[str, Any]], groups: tuple[_Named, ...], names: frozenset[str] | set[str]
) -> set[str]:
    return {
        field
        for obj in objects
        for group in groups
        if any(str(obj.get(key) or "").lower() in names for key in group.identity)
        for field in group.fields
    }


def _json(raw: str) -> Any:
    if not raw.startswith("{"):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _objects(value: Any) -> Any:
    """Every JSON object in a record, the record's own included (the same objects, to edit)."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)
