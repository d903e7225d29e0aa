"""Comments in the legacy Twitch v5 "rechat" shape, shared by rechat_v5 and TwitchDownloader.

A comment is `{_id, created_at, content_offset_seconds, commenter{_id, name, display_name},
message{body, fragments[{text, emoticon{emoticon_id}}], emoticons[{_id, begin, end}],
user_badges[{_id, version}], bits_spent, is_action, user_notice_params{msg-id, ...}}}`.
`created_at` is not the send time for re-processed v5 videos (highlights carry the processing
time), so the send time is the video start plus `content_offset_seconds`; the importer puts the
video start in the envelope. Without it `created_at` is the best available time.

TwitchDownloader fills the v5 shape from Twitch's GQL API (`sends_created_at`): `created_at` is the
comment's send time there, while offsets count from the VOD's start, which a clip file does not
give (its `video.created_at` is when the clip was made). And it computes its `emoticons` list
from GQL fragment offsets, which count UTF-8 bytes and end two characters late, so its emotes come
from the fragments (`listed_emotes=False`).
"""

from __future__ import annotations

from typing import Any

from ingestion.events import ChatEvent, EmoteOccurrence, EventType, clamp_emote
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
)


def _fragment_emote(fragment: dict[str, Any]) -> str | None:
    emoticon = fragment.get("emoticon")
    return opt_str(emoticon.get("emoticon_id")) if isinstance(emoticon, dict) else None


def _listed_emotes(emoticons: list[Any], text: str) -> list[EmoteOccurrence]:
    """The `emoticons` list: code-point begin/end (inclusive), clamped like IRC positions."""
    found: list[EmoteOccurrence] = []
    for i, raw in enumerate(emoticons):
        item = obj(raw, f"emoticon {i}")
        emote_id = opt_str(item.get("_id"))
        begin, end = item.get("begin"), item.get("end")
        if emote_id and isinstance(begin, int) and isinstance(end, int):
            occ = clamp_emote(emote_id, *_whole_word(begin, end, text), text)
            if occ is not None:
                found.append(occ)
    found.sort(key=lambda o: o.start)
    return found


def _whole_word(begin: int, end: int, text: str) -> tuple[int, int]:
    """Native emotes are whole words. A listed span that cuts one (`)` of `:)` in "no :)", listed
    one place late) moves to the word of its own length that it overlaps."""

    def cut(i: int) -> bool:
        return 0 < i < len(text) and not text[i - 1].isspace() and not text[i].isspace()

    if not (cut(begin) or cut(end + 1)):
        return begin, end
    for i in (begin, min(end, len(text) - 1)):
        if 0 <= i < len(text) and not text[i].isspace():
            start = i
            while start > 0 and not text[start - 1].isspace():
                start -= 1
            stop = i
            while stop + 1 < len(text) and not text[stop + 1].isspace():
                stop += 1
            if stop - start == end - begin:
                return start, stop
    return begin, end


def parse_comment(
    text: str, source: str, *, sends_created_at: bool = False, listed_emotes: bool = True
) -> ChatEvent:
    value, ctx = load_record(text)
    comment = obj(value, "comment")
    channel = login_of(opt_str(ctx.get("channel")))
    if not channel:
        raise FormatError("no channel login (comments carry none; import with the importer)")
    video_start = ctx.get("video_start")
    if sends_created_at and comment.get("created_at") is not None:
        sent_at = parse_utc(comment.get("created_at"), "created_at")
    elif video_start is not None:
        sent_at = offset_time(parse_utc(video_start, "video_start"),
                              comment.get("content_offset_seconds"))  # fmt: skip
    else:
        sent_at = parse_utc(comment.get("created_at"), "created_at")
    commenter = opt_obj(comment.get("commenter"), "commenter")
    message = obj(comment.get("message"), "message")
    fragments = opt_list(message.get("fragments"), "message.fragments")
    body, fragment_emotes_ = fragment_emotes(fragments, _fragment_emote)
    if isinstance(message.get("body"), str):
        body = message["body"]
    # The `emoticons` list marks emotes the fragments sometimes miss (`:)` in "no :)").
    if listed_emotes and "emoticons" in message:
        emotes = _listed_emotes(opt_list(message.get("emoticons"), "emoticons"), body)
    else:  # fragment positions hold for the body where it agrees with the fragments
        emotes = [e for e in fragment_emotes_ if body[e.start : e.end + 1] == e.code]
    notice = opt_obj(message.get("user_notice_params"), "user_notice_params")
    kind = opt_str(notice.get("msg-id"))
    params = {k: s for k, v in notice.items() if k != "msg-id" and (s := opt_str(v)) is not None}
    for key in ("content_offset_seconds", "content_id"):
        if (v := opt_str(comment.get(key))) is not None:
            params[key] = v
    return ChatEvent(
        event_id=req_str(comment, "_id"),
        channel=channel,
        event_type=EventType.USERNOTICE if kind else EventType.MESSAGE,
        sent_at=sent_at,
        source=source,
        raw=text,
        channel_id=opt_str(comment.get("channel_id")) or opt_str(ctx.get("channel_id")),
        user_id=opt_str(commenter.get("_id")),
        user_login=login_of(opt_str(commenter.get("name"))),
        display_name=opt_str(commenter.get("display_name")),
        text=body,
        is_action=message.get("is_action") is True,
        emotes=emotes,
        badges=badge_pairs(opt_list(message.get("user_badges"), "user_badges"), ("_id",)),
        bits=opt_int(message.get("bits_spent")),
        notice_kind=kind,
        params=params,
    )
