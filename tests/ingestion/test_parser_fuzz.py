"""Property tests: no input, however broken, makes a parser raise.

Every non-blank line gives exactly one ChatEvent or one Reject (IRC may also skip connection
chatter), and every event satisfies the model's invariants (aware UTC time, a channel, emote
positions inside the text).
"""

from __future__ import annotations

import copy
import json
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.events import ChatEvent, Reject
from ingestion.formats._common import envelope
from ingestion.importer import import_paths
from ingestion.sources import PARSERS

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# EventSub records are fuzzed from real payloads in tests/clients/test_eventsub.py.
RECORD_SOURCES = sorted(s for s in PARSERS if s not in ("irc", "eventsub"))

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)

BASES: dict[str, Any] = {
    "gql": {
        "id": "a",
        "createdAt": "2021-02-12T04:24:32.5580482Z",
        "commenter": {"id": "1", "login": "u", "displayName": "U"},
        "message": {
            "body": "x Kappa",
            "bitsSpent": 1,
            "fragments": [
                {"text": "x ", "emote": None},
                {"text": "Kappa", "emote": {"emoteID": "25", "from": 2}},
            ],
            "userBadges": [{"setID": "vip", "version": "1"}, {"_id": "a", "version": "1"}],
        },
    },
    "rechat_v5": {
        "_id": "a",
        "created_at": "2021-07-15T02:01:48.74506207Z",
        "content_offset_seconds": 3,
        "commenter": {"_id": "1", "name": "u"},
        "message": {
            "body": "<3 hi",
            "emoticons": [{"_id": "9", "begin": 0, "end": 1}],
            "fragments": [{"text": "<3", "emoticon": {"emoticon_id": "9"}}, {"text": " hi"}],
            "user_badges": [{"_id": "subscriber", "version": "6"}],
            "user_notice_params": {"msg-id": "resub", "msg-param-months": 3},
        },
    },
    "chat_downloader": {
        "message_id": "a",
        "message": "Kappa hi",
        "timestamp": 1_700_000_000_000_000,
        "message_type": "text_message",
        "author": {"id": "1", "name": "u", "badges": [{"name": "vip", "version": 1}]},
        "emotes": [{"id": "25", "name": "Kappa", "locations": ["0-4"]}],
    },
    "text_log": "[2019-09-15 00:00:00] #xqcow onche: hi",
}
BASES["twitchdownloader"] = BASES["rechat_v5"]
# A NormVio landing line holds one chat entry of a record (see `normvio.landing_lines`).
BASES["normvio"] = {
    "timestamp": "2022-08-31 13:40:09", "user": "u", "display_name": "U",
    "message": "hi Kappa", "emotes": "25:3-7", "message_id": "m1",
}  # fmt: skip
CONTEXT = {
    "channel": "chan",
    "video_start": "2021-07-15T01:59:24Z",
    "start": "2021-07-15T01:59:24Z",
}
CONTEXTS = {
    "normvio": {"channel": "chan", "timezone": "pst", "record_id": "1", "part": "bad_utterance"}
}


def check(source: str, line: bytes | str) -> list[ChatEvent | Reject]:
    items = list(PARSERS[source]([line]))  # pyright: ignore[reportArgumentType] (str lines too)
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    try:
        blank = not raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        blank = False
    if source == "irc":
        assert len(items) <= (0 if blank else 1)
    else:
        assert len(items) == (0 if blank else 1), (line, items)
    for item in items:
        if isinstance(item, Reject):
            assert item.reason and item.raw == raw
            continue
        assert isinstance(item, ChatEvent) and item.channel and item.event_id
        assert item.sent_at.tzinfo is not None and item.sent_at.utcoffset() == UTC.utcoffset(None)
        text = item.text or ""
        for emote in item.emotes:
            assert 0 <= emote.start <= emote.end < len(text)
            assert emote.code == text[emote.start : emote.end + 1]
    return items


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


@pytest.mark.parametrize("source", sorted(PARSERS))
@FUZZ
@given(line=st.binary(max_size=400))
def test_arbitrary_bytes(source: str, line: bytes) -> None:
    check(source, line)


@pytest.mark.parametrize("source", sorted(PARSERS))
@FUZZ
@given(
    text=st.text(max_size=200),
    junk=st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b""]),
)
def test_text_with_nul_and_invalid_utf8(source: str, text: str, junk: bytes) -> None:
    encoded = text.encode()
    cut = len(encoded) // 2
    items = check(source, encoded[:cut] + junk + encoded[cut:])
    if junk in (b"\x00", b"\xff", b"\xed\xa0\x80"):
        assert len(items) == 1 and isinstance(items[0], Reject)


@pytest.mark.parametrize("source", RECORD_SOURCES)
@FUZZ
@given(value=JSON_VALUES, wrap=st.booleans())
def test_wrong_json_shapes(source: str, value: Any, wrap: bool) -> None:
    check(source, envelope(value, CONTEXT) if wrap else json.dumps(value))


@pytest.mark.parametrize("source", RECORD_SOURCES)
@FUZZ
@given(data=st.data())
def test_mutated_valid_records(source: str, data: st.DataObject) -> None:
    record = copy.deepcopy(BASES[source])
    context = CONTEXTS.get(source, CONTEXT)
    assert all(isinstance(i, ChatEvent) for i in check(source, envelope(record, context)))
    path = data.draw(st.sampled_from(_paths(record)))
    replacement = data.draw(JSON_VALUES)
    if not path:
        record = replacement
    else:
        parent = record
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    check(source, envelope(record, context))


@FUZZ
@given(
    texts=st.lists(st.text(max_size=8), min_size=1, max_size=5),
    ranges=st.lists(st.tuples(st.integers(-5, 40), st.integers(-5, 40)), max_size=6),
)
def test_emote_ranges_out_of_range_or_overlapping(
    texts: list[str], ranges: list[tuple[int, int]]
) -> None:
    body = "".join(texts)
    frags = [{"text": t, "emote": {"emoteID": "e"} if i % 2 else None} for i, t in enumerate(texts)]
    node = {**BASES["gql"], "message": {"fragments": frags}}
    check("gql", envelope(node, CONTEXT))
    v5 = copy.deepcopy(BASES["rechat_v5"])
    v5["message"].update(
        body=body, emoticons=[{"_id": "e", "begin": a, "end": b} for a, b in ranges]
    )
    check("rechat_v5", envelope(v5, CONTEXT))
    item = {
        **BASES["chat_downloader"],
        "message": body,
        "emotes": [{"id": "e", "locations": [f"{a}-{b}" for a, b in ranges]}],
    }
    check("chat_downloader", envelope(item, CONTEXT))
    spec = "/".join(f"e{i}:{a}-{b}" for i, (a, b) in enumerate(ranges))
    check("irc", f"@id=x;tmi-sent-ts=1568505600501;emotes={spec} :u!u@u PRIVMSG #c :{body}")


TAG_TEXT = st.text(alphabet=st.sampled_from(list("ab\\:;s= rn\x01é😀0-9,/")), max_size=30)


@FUZZ
@given(
    tags=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "emotes",
                "badges",
                "badge-info",
                "tmi-sent-ts",
                "ban-duration",
                "msg-id",
                "bits",
                "login",
                "x",
            ]
        ),
        TAG_TEXT,
        max_size=6,
    ),
    command=st.sampled_from(
        [
            "PRIVMSG",
            "CLEARCHAT",
            "CLEARMSG",
            "USERNOTICE",
            "NOTICE",
            "ROOMSTATE",
            "JOIN",
            "PART",
            "PING",
            "WHAT",
        ]
    ),
    channel=st.text(max_size=6),
    body=st.text(max_size=60),
    prefix=st.sampled_from(
        ["", ":u!u@u.tmi.twitch.tv ", ":tmi.twitch.tv ", ":", "1568505600501\t"]
    ),
)
def test_irc_broken_tags(
    tags: dict[str, str], command: str, channel: str, body: str, prefix: str
) -> None:
    tag_text = ";".join(f"{k}={v}" for k, v in tags.items())
    head = f"@{tag_text} " if tags else ""
    check("irc", f"{head}{prefix}{command} #{channel} :{body}")


@pytest.mark.parametrize("source", ["irc", *RECORD_SOURCES])
def test_ten_thousand_char_messages(source: str) -> None:
    body = ("Kappa 😀 " * 1300)[:10_000]
    lines: dict[str, str] = {
        "irc": f"@id=x;tmi-sent-ts=1;emotes=25:0-4,9990-10050 :u!u@u PRIVMSG #c :{body}",
        "text_log": envelope(f"[2019-09-15 00:00:00] u: {body}", CONTEXT),
        "gql": envelope({**BASES["gql"], "message": {"fragments": [{"text": body}]}}, CONTEXT),
        "chat_downloader": envelope({**BASES["chat_downloader"], "message": body}, CONTEXT),
        "normvio": envelope({**BASES["normvio"], "message": body}, CONTEXTS["normvio"]),
    }
    v5 = copy.deepcopy(BASES["rechat_v5"])
    v5["message"]["body"] = body
    line = lines.get(source) or envelope(v5, CONTEXT)
    (event,) = check(source, line)
    assert isinstance(event, ChatEvent) and len(event.text or "") >= 10_000 - 30


def test_lone_surrogates_are_rejected() -> None:
    for source in RECORD_SOURCES:
        record = copy.deepcopy(BASES[source]) if source != "text_log" else BASES[source] + "\ud800"
        if isinstance(record, dict):
            record["message" if source != "gql" else "id"] = "\ud800 x"
        (item,) = check(source, json.dumps({"_import": CONTEXT, "record": record}))
        assert isinstance(item, Reject) and "surrogate" in item.reason


# A real IRC line first makes the file sniff as IRC, so the garbage after it is read line by line
# (pure garbage is rejected at detection and would only check "did not raise").
IRC_HEAD = b"@id=a;tmi-sent-ts=1700000000000 :u!u@u.tmi.twitch.tv PRIVMSG #chan :hi\n"


# Garbage lines (blank ones included), joined: binary alone seldom holds a newline.
GARBAGE = st.lists(st.binary(max_size=60), max_size=8).map(b"\n".join)


@settings(max_examples=40, deadline=None)
@given(content=GARBAGE, gz_magic=st.booleans(), irc_head=st.booleans())
def test_importer_never_raises_on_garbage_files(
    content: bytes, gz_magic: bool, irc_head: bool
) -> None:
    data = (IRC_HEAD if irc_head else b"") + content
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.json"
        path.write_bytes((b"\x1f\x8b" if gz_magic else b"") + data)
        report = import_paths([path], Path(tmp) / "landing", channel_hint="chan")
        (file_report,) = report.files
    if file_report.error is None and file_report.format == "irc":
        # Every line is accounted for exactly once: landed, rejected, or skipped (blank lines
        # and connection chatter); none is dropped or counted twice.
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        counted = file_report.landed + file_report.rejected + file_report.skipped
        assert counted == lines
    if irc_head and not gz_magic:
        assert file_report.format == "irc" and file_report.error is None
        assert file_report.landed >= 1  # the head line itself
