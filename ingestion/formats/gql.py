"""Twitch GraphQL `VideoComment` nodes (VOD chat exports such as `verbose_chat.json.gz`).

Two schemas exist. Before mid-2025: badges `{_id, version}`, emote fragments `{emoticon_id}`,
plus `channelId`, `message.body` and `bitsSpent`. Later: badges `{id, setID, version}` with empty
placeholders (`setID == ""`), emote fragments `{id, emoteID, from}`, no channel at all, so the
channel login comes from the importer's envelope. `commenter` is null for deleted accounts.
Emote positions come from the fragments (code points, inclusive end); the old `emoticons`
begin/end list is not used because its offsets are unreliable.

`createdAt` is when the comment was sent, except in many old exports of highlights, where it is
when the highlight was made: every comment of a 40-minute video within a few seconds. With the
video's start known (the importer reads `vod.json`), a `createdAt` further than
`CREATED_AT_TOLERANCE` from start + `contentOffsetSeconds` is replaced by that sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from ingestion.events import ChatEvent, EventType, Reject
from ingestion.formats._common import (
    FormatError,
    badge_pairs,
    fragment_emotes,
    load_record,
    login_of,
    obj,
    offset_time,
    opt_int,
    opt_list,
    opt_obj,
    opt_str,
    parse_utc,
    req_str,
    run,
)

SOURCE = "gql"
# Real exports put createdAt 0.7-2.7 s after start + offset; highlights, minutes away.
CREATED_AT_TOLERANCE = timedelta(seconds=30)


def _emote_id(fragment: dict[str, Any]) -> str | None:
    emote = fragment.get("emote")
    if not isinstance(emote, dict) or not emote:
        return None
    found = opt_str(emote.get("emoteID")) or opt_str(emote.get("emoticon_id"))
    if found:
        return found
    composite = opt_str(emote.get("id"))  # "<emoteID>;<from>;<to>"
    return composite.split(";", 1)[0] if composite else None


def _sent_at(node: dict[str, Any], ctx: dict[str, Any]) -> datetime:
    created_at = parse_utc(node.get("createdAt"), "createdAt")
    start, offset = ctx.get("video_start"), node.get("contentOffsetSeconds")
    if start is None or offset is None:
        return created_at
    try:
        replayed = offset_time(parse_utc(start, "video_start"), offset)
    except FormatError:  # an unusable offset: the comment's own time stands
        return created_at
    return created_at if abs(created_at - replayed) <= CREATED_AT_TOLERANCE else replayed


def parse_record(text: str) -> ChatEvent:
    value, ctx = load_record(text)
    node = obj(value, "record")
    channel = login_of(opt_str(ctx.get("channel")))
    if not channel:
        raise FormatError("no channel login (gql nodes carry none; import with the importer)")
    event_id = req_str(node, "id")
    sent_at = _sent_at(node, ctx)
    message = obj(node.get("message"), "message")
    fragments = opt_list(message.get("fragments"), "message.fragments")
    text_body, emotes = fragment_emotes(fragments, _emote_id)
    if not fragments:
        text_body = opt_str(message.get("body")) or ""
    commenter = opt_obj(node.get("commenter"), "commenter")
    params = {
        k: v
        for k, v in {
            "video_id": opt_str(node.get("contentId")) or opt_str(ctx.get("video_id")),
            "content_offset_seconds": opt_str(node.get("contentOffsetSeconds")),
            "color": opt_str(message.get("userColor")),
        }.items()
        if v
    }
    return ChatEvent(
        event_id=event_id,
        channel=channel,
        event_type=EventType.MESSAGE,
        sent_at=sent_at,
        source=SOURCE,
        raw=text,
        channel_id=opt_str(node.get("channelId")) or opt_str(ctx.get("channel_id")),
        user_id=opt_str(commenter.get("id")),
        user_login=login_of(opt_str(commenter.get("login"))),
        display_name=opt_str(commenter.get("displayName")),
        text=text_body,
        emotes=emotes,
        badges=badge_pairs(opt_list(message.get("userBadges"), "userBadges"), ("setID", "_id")),
        bits=opt_int(message.get("bitsSpent")),
        params=params,
    )


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)
