"""Importer: format sniffing, folder walking, idempotent landing, rejects with reasons."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.events import ChatEvent
from ingestion.importer import (
    ImportReport,
    UnknownFormatError,
    detect_format,
    import_paths,
)
from ingestion.landing import files_for_window as landing_files_for_window
from ingestion.landing import hour_floor, read_lines
from ingestion.sources import parser_for

GQL_DIR = "vod-chat-gql/arypie/2021-02-12_04-22-38_910716790"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (f"{GQL_DIR}/verbose_chat.json.gz", "gql"),
        ("rechat-v5-northernlion/1087079172.json", "rechat_v5"),
        ("irc-raw-xqcow/channel.txt.gz", "irc"),
    ],
)
def test_detect_real_formats(data: Callable[[str], Path], relative: str, expected: str) -> None:
    assert detect_format(data(relative)) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'[{"message_id": "a", "message_type": "text_message", "timestamp": 1}]',
            "chat_downloader",
        ),
        (b'{"message_id": "a", "time_in_seconds": 1.0}\n{"message_id": "b"}\n', "chat_downloader"),
        (b'{"FileInfo": {}, "streamer": {"name": "x"}, "comments": []}', "twitchdownloader"),
        (b'{"video": {}, "comments": [{"_id": "a", "content_offset_seconds": 1}]}', "rechat_v5"),
        (b'[{"id": "a", "contentOffsetSeconds": 1, "createdAt": "2020-01-01T00:00:00Z"}]', "gql"),
        (b"[0:00:05] alice: hi\n", "text_log"),
        (b"\xef\xbb\xbf[2019-09-15 00:00:00] #xqcow onche: hi\n", "text_log"),
        (b"1568505600501\t:tmi.twitch.tv PING\n", "irc"),
        (b"@id=1;tmi-sent-ts=1 :a!a@a PRIVMSG #b :hi\n", "irc"),
    ],
)
def test_detect_sniffs_content_gzip_aware(tmp_path: Path, content: bytes, expected: str) -> None:
    plain, packed = tmp_path / "a.bin", tmp_path / "b.bin"  # names say nothing
    plain.write_bytes(content)
    packed.write_bytes(gzip.compress(content))
    assert detect_format(plain) == detect_format(packed) == expected


@pytest.mark.parametrize("content", [b"", b"hello world\n", b'{"tests": []}', b"\x00\x01\x02"])
def test_detect_unknown_raises_clearly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mystery.json"
    path.write_bytes(content)
    with pytest.raises(UnknownFormatError, match="no supported chat format"):
        detect_format(path)


def test_gql_folder_layout_and_idempotence(data: Callable[[str], Path], tmp_path: Path) -> None:
    vod_dir = data(GQL_DIR)
    nodes = json.loads(gzip.decompress((vod_dir / "verbose_chat.json.gz").read_bytes()))
    landing = tmp_path / "landing"
    seen: list[str] = []
    report = import_paths([vod_dir], landing, progress=lambda f: seen.append(f.path.name))
    assert seen == ["verbose_chat.json.gz"]  # vod.json is metadata, not chat
    (file_report,) = report.files
    assert (file_report.format, file_report.landed, file_report.rejected) == ("gql", len(nodes), 0)
    assert {f.parts[-4] for f in file_report.landing_files} == {"gql"}
    assert {f.parts[-3] for f in file_report.landing_files} == {"arypie"}
    expected_hours = {
        hour_floor(datetime.fromisoformat(n["createdAt"][:26].rstrip("Z") + "+00:00"))
        for n in nodes
    }
    assert file_report.hours == expected_hours
    before = _snapshot(landing)
    again = import_paths([vod_dir], landing)
    assert _snapshot(landing) == before  # same files, same bytes: no duplicated lines
    assert again.landed == report.landed and not list(landing.rglob("*.tmp"))
    lines = [json.loads(line) for p in file_report.landing_files for line in read_lines(p)]
    assert [line["record"] for line in lines] == nodes  # the original records, in order
    assert {line["_import"]["video_id"] for line in lines} == {"910716790"}


def test_landing_lines_reparse_to_the_imported_events(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    path = data("rechat-v5-northernlion/1087079172.json")
    report = import_paths([path], tmp_path)
    files = landing_files_for_window(
        tmp_path, min(report.hours), max(report.hours) + timedelta(hours=1)
    )
    assert sorted(f.path for f in files) == report.files[0].landing_files
    for landing_file in files:
        for event in parser_for(landing_file.source)(read_lines(landing_file.path)):
            assert isinstance(event, ChatEvent)
            assert hour_floor(event.sent_at) == landing_file.hour
            assert event.channel == landing_file.channel == "northernlion"


def test_rejects_are_counted_with_reasons_and_not_landed(tmp_path: Path) -> None:
    good = {"message_id": "m1", "message": "hi", "timestamp": 1_700_000_000_000_000,
            "message_type": "text_message", "author": {"name": "a"}}  # fmt: skip
    lines = [json.dumps(good), "{not json", json.dumps({**good, "timestamp": "yesterday"}),
             json.dumps([1, 2]), "", json.dumps({**good, "message_id": "m2"})]  # fmt: skip
    path = tmp_path / "chat.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    report = import_paths([path], tmp_path / "landing", channel_hint="chan")
    (file_report,) = report.files
    assert (file_report.landed, file_report.rejected) == (2, 4)
    reasons = [r.reason for r in file_report.rejects]
    assert any(r.startswith("invalid JSON") for r in reasons)
    assert any("timestamp 'yesterday'" in r for r in reasons)
    assert any("expected an object" in r for r in reasons)
    assert any(r.startswith("invalid UTF-8") for r in reasons)
    assert report.reject_ratio == pytest.approx(4 / 6)
    landed = [line for p in file_report.landing_files for line in read_lines(p)]
    assert len(landed) == 2


def test_nul_characters_are_rejected_with_their_reason(tmp_path: Path) -> None:
    """A NUL, escaped in JSON or as bytes padding a text log, cannot be stored: the record is
    rejected at import, as the loader would quarantine it."""
    good = {"message_id": "m1", "message": "hi", "timestamp": 1_700_000_000_000_000,
            "message_type": "text_message", "author": {"name": "a"}}  # fmt: skip
    jsonl = tmp_path / "chat.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in (
        good, {**good, "message_id": "m2", "message": "hi\x00there"},
        {**good, "message_id": "m3", "author": {"name": "a\x00"}},
        {**good, "message_id": "m4", "message": "a \\u0000 typed out"})))  # fmt: skip
    log = tmp_path / "chat.txt"
    log.write_bytes(b"[2019-09-15 00:00:00] #xqcow bob: hi\n"
                    b"[2019-09-15 00:00:01] #xqcow bob: cut\x00\x00\x00\n"
                    b"[2019-09-15 00:00:02] #xqcow bob: bye\n")  # fmt: skip
    report = import_paths([jsonl, log], tmp_path / "landing", channel_hint="xqcow")
    for file_report in report.files:
        assert (file_report.landed, file_report.rejected) == (2, len(file_report.rejects))
        assert {r.reason for r in file_report.rejects} == {"NUL character in a string"}
    assert [f.rejected for f in report.files] == [2, 1]


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    irc = tmp_path / "irc.log"
    irc.write_bytes(bom + b"".join(
        b"@id=%s;room-id=1;tmi-sent-ts=156850560%d000 :u!u@u PRIVMSG #xqcow :hi\r\n" % (i, n)
        for n, i in enumerate((b"a", b"b"))))  # fmt: skip
    log = tmp_path / "chat.txt"
    log.write_bytes(
        bom + b"[2019-09-15 00:00:00] #xqcow bob: hi\n[2019-09-15 00:00:01] #xqcow bob: yo\n"
    )
    jsonl = tmp_path / "chat.jsonl"
    jsonl.write_bytes(bom + b'{"message_id": "m1", "message": "hi", "timestamp": 1700000000000000,'
                      b' "message_type": "text_message", "author": {"name": "a"}}\n')  # fmt: skip
    report = import_paths([irc, log, jsonl], tmp_path / "landing", channel_hint="xqcow")
    assert [(f.format, f.landed, f.rejected) for f in report.files] == [
        ("irc", 2, 0), ("text_log", 2, 0), ("chat_downloader", 1, 0)]  # fmt: skip


def test_missing_channel_and_unknown_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "chat.json").write_text('[{"message_id": "a", "message_type": "text_message"}]')
    (tmp_path / "notes.txt").write_text("just some notes\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # not a chat-looking name: not walked
    report = import_paths([tmp_path], tmp_path / "landing")
    errors = {f.path.name: f.error for f in report.errors}
    assert set(errors) == {"chat.json", "notes.txt"}
    assert "channel_hint" in (errors["chat.json"] or "")
    assert "UnknownFormatError" in (errors["notes.txt"] or "")
    assert isinstance(report, ImportReport) and report.landed == 0


def test_irc_lines_land_under_irc_per_hour(data: Callable[[str], Path], tmp_path: Path) -> None:
    report = import_paths([data("irc-raw-xqcow/channel.txt.gz")], tmp_path)
    (file_report,) = report.files
    assert (file_report.format, file_report.landed, file_report.rejected) == ("irc", 5000, 0)
    assert file_report.hours == {datetime(2019, 9, 15, tzinfo=UTC)}
    (landing_file,) = file_report.landing_files
    assert landing_file.parent == tmp_path / "irc" / "xqcow" / "2019-09-15"
    assert landing_file.name.startswith("00.") and landing_file.suffix == ".log"
    source_lines = gzip.decompress(data("irc-raw-xqcow/channel.txt.gz").read_bytes()).split(b"\n")
    assert list(read_lines(landing_file)) == [line for line in source_lines if line]


def test_window_lookup_finds_plain_and_tagged_files(tmp_path: Path) -> None:
    day = tmp_path / "irc" / "chan" / "2024-01-01"
    day.mkdir(parents=True)
    for name in ("05.log", "05.0123abcd.log", "05.0123abcd.log.tmp", "06.log", "05.notes"):
        (day / name).write_text("")
    start = datetime(2024, 1, 1, 5, tzinfo=UTC)
    found = landing_files_for_window(tmp_path, start, start + timedelta(hours=1))
    assert [f.path.name for f in found] == ["05.0123abcd.log", "05.log"]


def _landed_events(report: ImportReport) -> list[ChatEvent]:
    return [
        e for f in report.files for path in f.landing_files
        for e in parser_for(f.format or "")(read_lines(path)) if isinstance(e, ChatEvent)
    ]  # fmt: skip


def test_an_opted_out_chatters_records_are_not_landed(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    from ingestion.load import OptOuts

    vod = data(GQL_DIR)
    everything = import_paths([vod], tmp_path / "all")
    events = _landed_events(everything)
    by_login: dict[str, int] = {}
    for event in events:
        by_login[event.user_login or ""] = by_login.get(event.user_login or "", 0) + 1
    login = max((n, x) for x, n in by_login.items() if x)[1]
    user_id = next(e.user_id for e in events if e.user_login == login)
    assert user_id

    # The same chatter by login, then by user id alone (as after a rename).
    for optouts in (OptOuts(logins=frozenset({login})), OptOuts(user_ids=frozenset({user_id}))):
        report = import_paths([vod], tmp_path / f"optout-{len(optouts.logins)}", optouts=optouts)
        landed = _landed_events(report)
        assert sum(f.opted_out for f in report.files) == by_login[login]
        assert report.landed == everything.landed - by_login[login]
        assert len(landed) == len(events) - by_login[login]
        assert login not in {e.user_login for e in landed}


HIGHLIGHT_DIR = "vod-chat-gql/arypie/2021-03-08_22-26-35_942204957"
NEW_SCHEMA_DIR = "vod-chat-gql/noanoelle/2026-08-22_08-33-08_2853156565"


def _imported_events(vod_dir: Path, landing: Path) -> list[ChatEvent]:
    report = import_paths([vod_dir], landing)
    events = [
        event
        for path in report.files[0].landing_files
        for event in parser_for("gql")(read_lines(path))
        if isinstance(event, ChatEvent)
    ]
    assert len(events) == report.landed
    return events


def test_gql_highlight_comments_are_timed_by_their_place_in_the_video(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    """An old highlight export stamps every comment with the highlight's making (a 13-minute
    video's comments within seconds): the video start plus each offset times them instead. An
    export whose createdAt agrees with start + offset keeps its own times."""
    highlight = data(HIGHLIGHT_DIR)
    nodes = json.loads(gzip.decompress((highlight / "verbose_chat.json.gz").read_bytes()))
    created = [datetime.fromisoformat(n["createdAt"][:26].rstrip("Z") + "+00:00") for n in nodes]
    offsets = [n["contentOffsetSeconds"] for n in nodes]
    assert (
        max(created) - min(created)
        < timedelta(seconds=30)
        < timedelta(seconds=max(offsets) - min(offsets))
    )  # the defect, in the data
    events = _imported_events(highlight, tmp_path / "h")
    start = datetime.fromisoformat(json.loads((highlight / "vod.json").read_text())["created_at"])
    for event, offset in zip(sorted(events, key=lambda e: e.sent_at), sorted(offsets), strict=True):
        assert abs(event.sent_at - (start + timedelta(seconds=offset))) <= timedelta(seconds=30)
    spread = max(e.sent_at for e in events) - min(e.sent_at for e in events)
    assert abs(spread.total_seconds() - (max(offsets) - min(offsets))) <= 60

    recent = data(NEW_SCHEMA_DIR)
    nodes = json.loads(gzip.decompress((recent / "verbose_chat.json.gz").read_bytes()))
    own = {n["id"]: datetime.fromisoformat(n["createdAt"][:26].rstrip("Z") + "+00:00")
           for n in nodes}  # fmt: skip
    events = _imported_events(recent, tmp_path / "r")
    assert {e.event_id: e.sent_at for e in events} == own


def test_a_broken_clock_is_rejected_and_does_not_stretch_the_import(tmp_path: Path) -> None:
    """`tmi-sent-ts=0`, Go's zero time and year 9999 are clocks gone wrong, not chat: each is
    rejected with its time, and the import spans only the hours of real chat."""
    line = "@id={id};tmi-sent-ts={ts};user-id=1 :a!a@a.tmi.twitch.tv PRIVMSG #xqcow :hi\n"
    real_ms = 1_568_505_600_000  # 2019-09-15 00:00 UTC
    stamps = [real_ms, 0, real_ms + 60_000, 32_503_593_600_000]  # ..., 1970, ..., 2999
    irc_log = tmp_path / "chat.log"
    irc_log.write_text("".join(line.format(id=f"m{i}", ts=ts) for i, ts in enumerate(stamps)))
    text_log = tmp_path / "chat.txt"
    text_log.write_text("[0001-01-01 00:00:00] #xqcow a: zero time\n"
                        "[2019-09-15 00:30:00] #xqcow a: hi\n"
                        "[9999-12-31 23:59:59] #xqcow a: end of time\n")  # fmt: skip
    report = import_paths([irc_log, text_log], tmp_path / "landing")
    assert (report.landed, report.rejected) == (3, 4)
    assert report.hours == {datetime(2019, 9, 15, tzinfo=UTC)}
    rejects = sorted((r for f in report.files for r in f.rejects), key=lambda r: r.reason)
    assert [(r.reason.split(",")[0], r.line_no, r.channel) for r in rejects] == [
        ("sent at 0001-01-01T00:00:00+00:00", 1, "xqcow"),
        ("sent at 1970-01-01T00:00:00+00:00", 2, "xqcow"),
        ("sent at 2999-12-31T00:00:00+00:00", 4, "xqcow"),
        ("sent at 9999-12-31T23:59:59+00:00", 3, "xqcow"),
    ]


def test_the_channel_a_file_names_wins_over_the_hint(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    """`--channel` is for files that do not say: a folder that needs it for one log must not
    relabel the VOD exports and rechat files beside it."""
    landing = tmp_path / "landing"
    log = tmp_path / "chat.log"
    log.write_text("[2019-09-15 00:00:00] alice: hi\n")
    report = import_paths(
        [data(GQL_DIR), data("rechat-v5-northernlion/1087079172.json"), log],
        landing, channel_hint="somechannel",
    )  # fmt: skip
    channels = {f.format: {p.parts[-3] for p in f.landing_files} for f in report.files}
    assert channels == {
        "gql": {"arypie"}, "rechat_v5": {"northernlion"}, "text_log": {"somechannel"},
    }  # fmt: skip


def test_a_dirty_file_is_refused_before_any_of_it_lands(tmp_path: Path) -> None:
    """Judged before landing: a crash later in the import cannot leave a refused file in the
    landing zone, and refusing it again leaves what an earlier, knowing import landed."""
    line = "@id=m{i};tmi-sent-ts=1568505600000;user-id=1 :a!a@a.tmi.twitch.tv PRIVMSG #xqcow :hi\n"
    path = tmp_path / "dirty.log"
    path.write_text("".join(line.format(i=i) for i in range(3)) + "garbage\n" * 3)
    landing = tmp_path / "landing"
    (refused,) = import_paths([path], landing, max_reject_ratio=0.1).files
    assert refused.refused and refused.rejected == 3 and refused.landing_files == []
    assert not landing.exists() or not [p for p in landing.rglob("*") if p.is_file()]
    (accepted,) = import_paths([path], landing, max_reject_ratio=1.0).files
    assert not accepted.refused and len(accepted.landing_files) == 1
    before = _snapshot(landing)
    (again,) = import_paths([path], landing, max_reject_ratio=0.1).files
    assert again.refused and again.landed_before == accepted.landing_files
    assert _snapshot(landing) == before
