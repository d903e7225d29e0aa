"""The parent message a reply quotes.

Twitch copies the parent message's text and author into every reply: IRC `reply-parent-*` and
`reply-thread-parent-*` tags, EventSub's `reply` object. A reply therefore holds another
chatter's words and name; erasing that chatter (`twitch-warehouse forget`) removes the copy from
everyone else's replies and keeps the reply itself, with the parent's message id.
"""

from __future__ import annotations

import json
from typing import Any

from ingestion.irc import split_tags

# The quoted author and text; the parent's and thread's message ids stay (they name no one).
IRC_QUOTE_TAGS = (
    "reply-parent-msg-body",
    "reply-parent-user-login",
    "reply-parent-display-name",
    "reply-parent-user-id",
    "reply-thread-parent-user-login",
    "reply-thread-parent-display-name",
    "reply-thread-parent-user-id",
)
_EVENTSUB_QUOTE_FIELDS = (
    "parent_message_body",
    "parent_user_login",
    "parent_user_name",
    "parent_user_id",
    "thread_user_login",
    "thread_user_name",
    "thread_user_id",
)
_IRC_AUTHOR_TAGS = (
    "reply-parent-user-login",
    "reply-parent-user-id",
    "reply-thread-parent-user-login",
    "reply-thread-parent-user-id",
)
_EVENTSUB_AUTHOR_FIELDS = (
    "parent_user_login",
    "parent_user_id",
    "thread_user_login",
    "thread_user_id",
)


def quoted_authors(raw: str) -> frozenset[str]:
    """Logins (lower case) and user ids of the chatters a reply line quotes; empty otherwise."""
    if raw.startswith("@"):
        tags = split_tags(raw[1:].split(" ", 1)[0])
        return frozenset(tags[k].lower() for k in _IRC_AUTHOR_TAGS if tags.get(k))
    reply = _eventsub_reply(raw)
    if reply is None:
        return frozenset()
    return frozenset(
        str(reply[k]).lower() for k in _EVENTSUB_AUTHOR_FIELDS if reply.get(k) is not None
    )


def without_quote(raw: str) -> str:
    """The reply line without the parent's text and author (unchanged if it quotes no one)."""
    if raw.startswith("@"):
        tag_part, _, rest = raw[1:].partition(" ")
        kept = [t for t in tag_part.split(";") if t.split("=", 1)[0] not in IRC_QUOTE_TAGS]
        return f"@{';'.join(kept)} {rest}" if kept else rest
    record = _json(raw)
    reply = _eventsub_reply(raw, record)
    if record is None or reply is None:
        return raw
    for key in _EVENTSUB_QUOTE_FIELDS:
        reply.pop(key, None)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _json(raw: str) -> Any:
    if not raw.startswith("{"):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _eventsub_reply(raw: str, record: Any = None) -> dict[str, Any] | None:
    """The `reply` object of an EventSub chat message record (the same object, to edit)."""
    record = _json(raw) if record is None else record
    try:
        reply = record["payload"]["event"]["reply"]
    except (KeyError, TypeError):
        return None
    return reply if isinstance(reply, dict) else None
