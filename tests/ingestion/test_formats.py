"""Format parsers: hand-made fixtures for formats without a sample, and independent recounts.

Each real data set is recounted by simple code reading the raw file (json + counting, string
splitting), never calling a parser, and must match what the importer lands and the loader's
registry parses back from landing.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion import irc
from ingestion.events import ChatEvent, EventType, Reject
from ingestion.formats import chat_downloader, gql, rechat_v5, text_log, twitchdownloader
from ingestion.formats._common import envelope
from ingestion.importer import import_paths
from ingestion.landing import files_for_window as landing_files_for_window
from ingestion.landing import read_lines
from ingestion.sources import parser_for

ALL = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, 1, tzinfo=UTC))


def landed_events(paths: list[Path], landing: Path, **hints: object) -> list[ChatEvent]:
    """Import, then parse every landing file back exactly as the partition loader does."""
    report = import_paths(paths, landing, **hints)  # type: ignore[arg-type]
    assert not report.errors, [f.error for f in report.errors]
    events: list[ChatEvent] = []
    window = (min(report.hours), max(report.hours) + timedelta(hours=1)) if report.hours else ALL
    for landing_file in landing_files_for_window(landing, *window):
        for item in parser_for(landing_file.source)(read_lines(landing_file.path)):
            assert not isinstance(item, Reject), item
            events.append(item)
    assert len(events) == report.landed
    return events


def only(items: list[ChatEvent | Reject]) -> ChatEvent:
    assert len(items) == 1 and isinstance(items[0], ChatEvent), items
    return items[0]


# --- gql ---------------------------------------------------------------------------------------

OLD_GQL = {
    "id": "0OIrZW3lYhZpHw",
    "createdAt": "2021-02-12T04:24:32.5580482Z",
    "channelId": "118034943",
    "contentId": "910716790",
    "contentOffsetSeconds": 10,
    "commenter": {"displayName": "Type_Speed", "id": "205285062", "login": "type_speed"},
    "message": {
        "body": "😀 hi carole2A",
        "bitsSpent": 5,
        "fragments": [
            {"text": "😀 hi ", "emote": {}},
            {"text": "carole2A", "emote": {"emoticon_id": "305068903"}},
        ],
        "userBadges": [{"_id": "founder", "version": "0"}],
        "emoticons": [{"_id": "305068903", "begin": 56, "end": 65}],  # unreliable, unused
    },
}
NEW_GQL = {
    "id": "562d7d46-38b3-471b-9030-57ea5d4fb609",
    "commenter": None,
    "contentOffsetSeconds": 8,
    "createdAt": "2026-08-22T08:33:18.213Z",
    "message": {
        "fragments": [
            {"emote": None, "text": "Sery_Bot is here "},
            {
                "emote": {"id": "emotesv2_a4;17;28", "emoteID": "emotesv2_a4", "from": 17},
                "text": "seryboArrive",
            },
        ],
        "userBadges": [
            {"id": "x", "setID": "moderator", "version": "1"},
            {"id": "Ozs=", "setID": "", "version": ""},
        ],
        "userColor": "#8A2BE2",
    },
}


def test_gql_old_schema_emotes_count_code_points() -> None:
    event = only(list(gql.parse_records([envelope(OLD_GQL, {"channel": "arypie"})])))
    assert event.channel == "arypie" and event.channel_id == "118034943"
    assert event.sent_at == datetime(2021, 2, 12, 4, 24, 32, 558048, tzinfo=UTC)
    assert event.text == "😀 hi carole2A" and event.bits == 5
    assert [(e.emote_id, e.start, e.end, e.code) for e in event.emotes] == [
        ("305068903", 5, 12, "carole2A")
    ]
    assert event.badges == {"founder": "0"}
    assert (event.user_id, event.user_login, event.display_name) == (
        "205285062", "type_speed", "Type_Speed",
    )  # fmt: skip


def test_gql_new_schema_deleted_commenter_and_placeholder_badges() -> None:
    event = only(list(gql.parse_records([envelope(NEW_GQL, {"channel": "NoaNoelle"}).encode()])))
    assert event.channel == "noanoelle" and event.user_id is None and event.user_login is None
    assert event.text == "Sery_Bot is here seryboArrive"
    assert [(e.emote_id, e.start, e.end) for e in event.emotes] == [("emotesv2_a4", 17, 28)]
    assert event.badges == {"moderator": "1"}


def test_gql_without_channel_is_rejected() -> None:
    (item,) = gql.parse_records([json.dumps(NEW_GQL)])
    assert isinstance(item, Reject) and "channel" in item.reason


def _gql_sample(root: Path, per_end: int = 3) -> list[Path]:
    """The first and last VOD dirs of every channel: both badge/emote schemas, fast enough."""
    files: list[Path] = []
    for channel_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        dirs = sorted(p for p in channel_dir.iterdir() if (p / "verbose_chat.json.gz").exists())
        files += [
            d / "verbose_chat.json.gz" for d in dict.fromkeys(dirs[:per_end] + dirs[-per_end:])
        ]
    return files


def test_gql_sample_matches_independent_recount(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    files = _gql_sample(data("vod-chat-gql"))
    ids: set[str] = set()
    messages, chatters, emote_codes = 0, set(), Counter()
    per_channel: Counter[str] = Counter()
    for path in files:
        nodes = json.loads(gzip.decompress(path.read_bytes()))
        messages += len(nodes)
        per_channel[path.parent.parent.name] += len(nodes)
        ids |= {n["id"] for n in nodes}
        chatters |= {n["commenter"]["login"] for n in nodes if n["commenter"]}
        for n in nodes:
            for frag in n["message"]["fragments"]:
                if frag.get("emote") and frag["text"]:
                    emote_codes[frag["text"]] += 1
    events = landed_events([p.parent for p in files], tmp_path)
    assert len(events) == messages and {e.event_id for e in events} == ids
    assert all(e.event_type == EventType.MESSAGE and e.source == "gql" for e in events)
    assert {e.user_login for e in events} - {None} == chatters
    assert Counter(o.code for e in events for o in e.emotes) == emote_codes
    assert Counter(e.channel for e in events) == per_channel
    assert sum(emote_codes.values()) > 0 and len(per_channel) == 3


# --- rechat v5 and TwitchDownloader -------------------------------------------------------------


def test_rechat_v5_matches_independent_recount(data: Callable[[str], Path], tmp_path: Path) -> None:
    path = data("rechat-v5-northernlion/1087079172.json")
    doc = json.loads(path.read_text("utf-8"))
    comments = doc["comments"]
    kinds = Counter(c["message"]["user_notice_params"].get("msg-id") for c in comments)
    emotes = sum(
        1
        for c in comments
        for e in c["message"].get("emoticons", [])
        if 0 <= e["begin"] < len(c["message"]["body"])
    )
    start = datetime.fromisoformat(doc["video"]["created_at"].replace("Z", "+00:00"))
    assert (len(comments), len({c["commenter"]["_id"] for c in comments})) == (3090, 836)
    assert kinds[None] == 3069 and kinds["resub"] + kinds["sub"] == 21

    events = landed_events([path], tmp_path)
    by_id = {e.event_id: e for e in events}
    assert len(by_id) == len(comments) == len(events)
    assert sum(e.event_type == EventType.MESSAGE for e in events) == kinds[None]
    notices = Counter(e.notice_kind for e in events if e.event_type == EventType.USERNOTICE)
    assert notices == {k: v for k, v in kinds.items() if k}
    assert len({e.user_login for e in events}) == 836
    assert sum(len(e.emotes) for e in events) == emotes
    for c in comments:  # send time is the video start plus the offset, not created_at
        offset = c["content_offset_seconds"]
        assert (by_id[c["_id"]].sent_at - start).total_seconds() == offset
    assert all(e.channel == "northernlion" and e.source == "rechat_v5" for e in events)


TD_DOC = {
    "FileInfo": {"Version": {"Major": 1, "Minor": 4, "Patch": 0}},
    "streamer": {"name": "SomeStreamer", "id": 123456},
    "video": {
        "title": "t",
        "id": "2000000001",
        "created_at": "2024-02-29T23:59:30Z",
        "start": 0,
        "end": 3600,
        "length": 3600,
    },
    "comments": [
        {
            "_id": "c1",
            "created_at": "2024-02-29T23:59:35.9Z",
            "content_offset_seconds": 5.5,
            "commenter": {"display_name": "Alice", "_id": "11", "name": "alice"},
            "message": {
                "body": "hi Kappa 👋 Kappa",
                "bits_spent": 0,
                "fragments": [
                    {"text": "hi ", "emoticon": None},
                    {"text": "Kappa", "emoticon": {"emoticon_id": "25"}},
                    {"text": " 👋 ", "emoticon": None},
                    {"text": "Kappa", "emoticon": {"emoticon_id": "25"}},
                ],
                # As TwitchDownloader writes it: GQL's UTF-8 byte offset, end = begin + len + 1.
                "emoticons": [
                    {"_id": "25", "begin": 3, "end": 9},
                    {"_id": "25", "begin": 14, "end": 20},
                ],
                "user_badges": [{"_id": "subscriber", "version": "12"}],
                "user_notice_params": {},
            },
        },
        {
            "_id": "c2",
            "created_at": "2024-03-01T00:00:11Z",
            "content_offset_seconds": 40,
            "commenter": {"display_name": "ボブ", "_id": "12", "name": "bob_jp"},
            "message": {
                "body": "cheer100 nice",
                "bits_spent": 100,
                "fragments": [{"text": "cheer100 nice"}],
            },
        },
        {
            "_id": "c3",
            "created_at": "2024-03-01T00:01:00Z",
            "content_offset_seconds": 90,
            "commenter": {"display_name": "Carol", "_id": "13", "name": "carol"},
            "message": {
                "body": "Carol subscribed at Tier 1. They've subscribed for 3 months!",
                "fragments": [{"text": "Carol subscribed at Tier 1."}],
                "user_notice_params": {"msg-id": "resub", "msg-param-cumulative-months": "3"},
            },
        },
        {"_id": "c4", "content_offset_seconds": "soon", "message": {}},  # broken: rejected
    ],
}


@pytest.mark.parametrize("gz", [False, True])
def test_twitchdownloader_fixture(tmp_path: Path, gz: bool) -> None:
    raw = json.dumps(TD_DOC).encode()
    path = tmp_path / ("chat.json.gz" if gz else "chat.json")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    report = import_paths([path], tmp_path / "landing")
    (file_report,) = report.files
    assert (file_report.format, file_report.landed, file_report.rejected) == (
        "twitchdownloader",
        3,
        1,
    )
    assert "content offset 'soon' is not a number" in file_report.rejects[0].reason
    assert file_report.hours == {
        datetime(2024, 2, 29, 23, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    }
    events = {e.event_id: e for e in landed_events([path], tmp_path / "again")}
    c1, c2, c3 = events["c1"], events["c2"], events["c3"]
    assert c1.channel == "somestreamer" and c1.channel_id == "123456"
    # Send times are the comments' own (GQL's createdAt), not the file's start plus an offset.
    assert c1.sent_at == datetime(2024, 2, 29, 23, 59, 35, 900000, tzinfo=UTC)
    assert [(e.emote_id, e.start, e.end) for e in c1.emotes] == [("25", 3, 7), ("25", 11, 15)]
    assert c1.badges == {"subscriber": "12"} and c1.user_login == "alice"
    assert c2.sent_at == datetime(2024, 3, 1, 0, 0, 11, tzinfo=UTC) and c2.bits == 100
    assert c2.display_name == "ボブ" and c2.user_login == "bob_jp"
    assert c3.event_type == EventType.USERNOTICE and c3.notice_kind == "resub"
    assert c3.params["msg-param-cumulative-months"] == "3"
    assert all(e.source == "twitchdownloader" for e in events.values())


def test_v5_comment_without_envelope_uses_created_at() -> None:
    comment = TD_DOC["comments"][0]
    event = only(list(rechat_v5.parse_records([envelope(comment, {"channel": "x"})])))
    assert event.sent_at == datetime(2024, 2, 29, 23, 59, 35, 900000, tzinfo=UTC)
    td = only(list(twitchdownloader.parse_records([envelope(comment, {"channel": "x"})])))
    assert td.sent_at == datetime.fromisoformat(comment["created_at"])
    assert (td.channel, td.user_login) == ("x", comment["commenter"]["name"])


# --- chat-downloader ---------------------------------------------------------------------------

T0 = 1_700_000_000_000_000  # µs
CD_ITEMS = [
    {"message_id": "m1", "message": "Kappa hi Kappa", "timestamp": T0, "time_in_seconds": 1.5,
     "message_type": "text_message", "channel_id": "999",
     "author": {"id": "1", "name": "alice", "display_name": "Alice",
                "badges": [{"name": "subscriber", "version": 6, "title": "6-Month"}]},
     "emotes": [{"id": "25", "name": "Kappa", "locations": ["0-4", "9-13"]}]},
    {"message_id": "m2", "message": "LUL then LUL", "timestamp": T0 + 1_000_000,
     "message_type": "text_message", "author": {"id": "2", "name": "bob"},
     "emotes": [{"id": "425618", "name": "LUL"}]},
    {"message_id": "s1", "message": "Carol subscribed with Prime.", "timestamp": T0 + 2_000_000,
     "message_type": "subscription", "author": {"id": "3", "name": "carol"}},
    {"timestamp": T0 + 3_000_000, "message_type": "ban_user", "ban_duration": 600,
     "author": {"id": "2", "name": "bob"}},
    {"timestamp": T0 + 4_000_000, "message_type": "ban_user", "target_user_id": "4",
     "banned_user": "Dave"},
    {"timestamp": T0 + 5_000_000, "message_type": "message_deleted", "target_message_id": "m2",
     "message": "LUL then LUL", "author": {"name": "bob"}},
    {"timestamp": T0 + 6_000_000, "message_type": "clear_chat"},
]  # fmt: skip


def _check_chat_downloader(events: list[ChatEvent]) -> None:
    by_type = Counter(e.event_type for e in events)
    assert by_type == {EventType.MESSAGE: 2, EventType.USERNOTICE: 1, EventType.TIMEOUT: 1,
                       EventType.BAN: 1, EventType.DELETE: 1, EventType.CLEAR: 1}  # fmt: skip
    m1, m2, s1 = (next(e for e in events if e.event_id == i) for i in ("m1", "m2", "s1"))
    assert [(o.start, o.end, o.code) for o in m1.emotes] == [(0, 4, "Kappa"), (9, 13, "Kappa")]
    assert [(o.start, o.end) for o in m2.emotes] == [(0, 2), (9, 11)]  # found as tokens
    assert m1.sent_at == datetime.fromtimestamp(T0 / 1e6, tz=UTC) and m1.badges == {
        "subscriber": "6"
    }
    assert s1.notice_kind == "sub" and s1.user_login == "carol"
    timeout = next(e for e in events if e.event_type == EventType.TIMEOUT)
    assert (timeout.target_user_login, timeout.duration_seconds) == ("bob", 600)
    ban = next(e for e in events if e.event_type == EventType.BAN)
    assert (ban.target_user_login, ban.target_user_id) == ("dave", "4")
    assert next(e for e in events if e.event_type == EventType.DELETE).target_message_id == "m2"
    assert len({e.event_id for e in events}) == len(events) == len(CD_ITEMS)


@pytest.mark.parametrize("layout", ["array", "jsonl"])
def test_chat_downloader_fixture(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"chat.{'json' if layout == 'array' else 'jsonl'}"
    text = json.dumps(CD_ITEMS) if layout == "array" else "\n".join(map(json.dumps, CD_ITEMS))
    path.write_text(text, "utf-8")
    events = landed_events([path], tmp_path / "landing", channel_hint="SomeChannel")
    assert {e.channel for e in events} == {"somechannel"}
    _check_chat_downloader(events)


def test_chat_downloader_parses_bare_items_with_a_channel() -> None:
    items = [envelope(i, {"channel": "c"}) for i in CD_ITEMS]
    events = [e for e in chat_downloader.parse_records(items) if isinstance(e, ChatEvent)]
    _check_chat_downloader(events)


# --- text logs ---------------------------------------------------------------------------------

TD_RELATIVE = """[0:00:05] Alice: hello there
[0:00:05] Alice: hello there
[1:02:03] 日本語名: こんにちは: with a colon
"""
TD_ABSOLUTE = """[2024-03-01 00:00:01] Alice: hi
[2024-03-01 00:00:01 UTC] Bob: yo
"""
JUSTLOG = """[2019-09-15 00:00:00] #xqcow onche: DEVIL MAY CRY 5 gachiBASS
[2019-09-15 00:00:01] #xqcow onche has been timed out for 2m30s
[2019-09-15 00:00:02] #xqcow baduser has been banned
[2019-09-15 00:00:03] #xqcow SikNharley subscribed with Prime.
[2019-09-15 00:00:04] #xqcow chat has been cleared
"""


def test_text_log_relative_needs_start(tmp_path: Path) -> None:
    path = tmp_path / "td.txt"
    path.write_text(TD_RELATIVE, "utf-8")
    start = datetime(2024, 2, 29, 23, 59, 30, tzinfo=UTC)
    events = landed_events([path], tmp_path / "l1", channel_hint="somestreamer", start_hint=start)
    assert [e.sent_at.isoformat() for e in events if e.display_name == "Alice"] == [
        "2024-02-29T23:59:35+00:00"
    ] * 2
    assert len({e.event_id for e in events}) == 3  # identical lines stay two events
    cjk = next(e for e in events if e.display_name == "日本語名")
    assert cjk.user_login is None and cjk.text == "こんにちは: with a colon"
    assert cjk.sent_at == datetime(2024, 3, 1, 1, 1, 33, tzinfo=UTC)
    report = import_paths([path], tmp_path / "l2", channel_hint="somestreamer")
    assert report.rejected == 3 and report.landed == 0
    assert "start_hint" in report.files[0].rejects[0].reason


def test_text_log_absolute_and_justlog(tmp_path: Path) -> None:
    (tmp_path / "td.txt").write_text(TD_ABSOLUTE, "utf-8")
    (tmp_path / "justlog.txt").write_text(JUSTLOG, "utf-8")
    events = landed_events([tmp_path / "td.txt"], tmp_path / "l1", channel_hint="chan")
    assert [(e.user_login, e.text) for e in events] == [("alice", "hi"), ("bob", "yo")]
    events = landed_events([tmp_path / "justlog.txt"], tmp_path / "l2")
    kinds = {e.event_type: e for e in events}
    assert set(kinds) == {EventType.MESSAGE, EventType.TIMEOUT, EventType.BAN, EventType.NOTICE,
                          EventType.CLEAR}  # fmt: skip
    assert {e.channel for e in events} == {"xqcow"}
    assert kinds[EventType.TIMEOUT].duration_seconds == 150
    assert kinds[EventType.TIMEOUT].target_user_login == "onche"
    assert kinds[EventType.BAN].target_user_login == "baduser"
    assert kinds[EventType.MESSAGE].text == "DEVIL MAY CRY 5 gachiBASS"


def test_text_log_bare_lines_parse() -> None:
    (event,) = text_log.parse_records([b"[2019-09-15 00:00:00] #xqcow onche: hi"])
    assert isinstance(event, ChatEvent) and event.user_login == "onche"


# --- IRC ---------------------------------------------------------------------------------------


def _irc_command(line: str) -> tuple[str, str | None]:
    """(command, prefix nick) by plain splitting: tags and prefix are the leading @/: words."""
    words = line.split(" ")
    i = 1 if words[0].startswith("@") else 0
    nick = None
    if words[i].startswith(":"):
        nick = words[i][1:].split("!")[0]
        i += 1
    return words[i], nick


def test_irc_raw_xqcow_matches_recount(data: Callable[[str], Path]) -> None:
    lines = gzip.decompress(data("irc-raw-xqcow/channel.txt.gz").read_bytes()).split(b"\n")
    lines = [line for line in lines if line.strip()]
    commands: Counter[str] = Counter()
    chatters: set[str] = set()
    timeouts = bans = 0
    for line in lines:
        text = line.decode()
        command, nick = _irc_command(text)
        commands[command] += 1
        if command == "PRIVMSG" and nick:
            chatters.add(nick)
        if command == "CLEARCHAT":
            timeouts += "ban-duration=" in text.split(" ", 1)[0]
            bans += "ban-duration=" not in text.split(" ", 1)[0]
    assert (commands["PRIVMSG"], len(chatters), timeouts, bans, commands["USERNOTICE"]) == (
        4933, 1208, 57, 1, 9,
    )  # fmt: skip
    events = list(irc.parse_lines(lines))
    assert not [e for e in events if isinstance(e, Reject)]
    types = Counter(e.event_type for e in events if isinstance(e, ChatEvent))
    assert types == {EventType.MESSAGE: 4933, EventType.TIMEOUT: 57, EventType.BAN: 1,
                     EventType.USERNOTICE: 9}  # fmt: skip
    logins = {
        e.user_login for e in events if isinstance(e, ChatEvent) and e.event_type == "message"
    }
    assert logins == chatters


IRC_TYPES = {
    "PRIVMSG": {EventType.MESSAGE},
    "USERNOTICE": {EventType.USERNOTICE},
    "CLEARCHAT": {EventType.TIMEOUT, EventType.BAN, EventType.CLEAR},
    "CLEARMSG": {EventType.DELETE},
    "NOTICE": {EventType.NOTICE},
}


def _check_irc_lines(lines: list[str]) -> Counter[str]:
    """Parse every line alone; its event type must be the one its command implies."""
    commands: Counter[str] = Counter()
    for line in lines:
        command, _ = _irc_command(line)
        commands[command] += 1
        items = list(irc.parse_lines([line]))
        assert len(items) == 1 and isinstance(items[0], ChatEvent), (line, items)
        assert items[0].event_type in IRC_TYPES[command]
    return commands


def test_irc_chatterino_vectors(data: Callable[[str], Path]) -> None:
    folder = data("irc-eventsub-vectors/tests/snapshots/IrcMessageHandler")
    lines = [json.loads(p.read_text("utf-8"))["input"] for p in sorted(folder.glob("*.json"))]
    commands = _check_irc_lines(lines)
    assert commands == {"PRIVMSG": 70, "USERNOTICE": 29, "CLEARCHAT": 8, "CLEARMSG": 2, "NOTICE": 1}
    kinds = Counter(m[1] for line in lines if _irc_command(line)[0] == "USERNOTICE"
                    for m in [re.search(r"[@;]msg-id=([^; ]+)", line)] if m)  # fmt: skip
    events = [e for e in irc.parse_lines(lines) if isinstance(e, ChatEvent)]
    parsed = Counter(e.notice_kind for e in events if e.event_type == EventType.USERNOTICE)
    assert parsed == kinds and len(kinds) == 10


def test_irc_recentmessages_nymn(data: Callable[[str], Path]) -> None:
    doc = json.loads(data("irc-eventsub-vectors/benchmarks/resources/recentmessages-nymn.json")
                     .read_text("utf-8"))  # fmt: skip
    commands = _check_irc_lines(doc["messages"])
    assert sum(commands.values()) == 800 and commands["PRIVMSG"] == 798


def test_justlog_text_days_without_zero_padding(tmp_path: Path) -> None:
    """justlog formats days with Go's `2006-01-2`: a file from the 5th starts `[2019-09-5 ...]`,
    is recognised as a text log and loads at the right times."""
    from datetime import UTC, datetime

    (tmp_path / "day5.txt").write_text(
        "[2019-09-5 00:00:01] #xqcow alice: hi\n[2019-09-5 9:04:05] #xqcow bob: yo\n"
        "[2019-09-15 23:59:59] #xqcow carol: later\n",
        "utf-8",
    )
    events = landed_events([tmp_path / "day5.txt"], tmp_path / "l")
    assert [(e.user_login, e.sent_at) for e in events] == [
        ("alice", datetime(2019, 9, 5, 0, 0, 1, tzinfo=UTC)),
        ("bob", datetime(2019, 9, 5, 9, 4, 5, tzinfo=UTC)),
        ("carol", datetime(2019, 9, 15, 23, 59, 59, tzinfo=UTC)),
    ]


def test_a_v5_emote_listed_one_place_late_is_counted_as_the_word_it_marks(
    data: Callable[[str], Path],
) -> None:
    """Northernlion's "no :)" lists `:)` at 4-5, one place late: it counts as `:)`, not `)`.
    Spans that are whole words stay where they are."""
    doc = json.loads(data("rechat-v5-northernlion/1087079172.json").read_text("utf-8"))
    ctx = {"channel": "northernlion", "video_start": doc["video"]["created_at"]}
    late = next(c for c in doc["comments"] if c["_id"] == "WgqZSm7UkRbppQ")
    assert late["message"]["body"] == "no :)"
    assert [(e["begin"], e["end"]) for e in late["message"]["emoticons"]] == [(4, 5)]
    events = [only(list(rechat_v5.parse_records([envelope(c, ctx)]))) for c in doc["comments"]]
    codes = Counter(e.code for event in events for e in event.emotes)
    assert ")" not in codes and codes[":)"] > 0
    for event in events:
        for e in event.emotes:
            assert event.text is not None and event.text[e.start : e.end + 1] == e.code
            assert e.start == 0 or event.text[e.start - 1].isspace()
