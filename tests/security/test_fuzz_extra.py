"""What `tests/ingestion/test_parser_fuzz.py` leaves out: real truncated gzip files, and fuzzed
lines going all the way to PostgreSQL (rejects reach raw.quarantine with a reason while the good
lines beside them load; import rejects too).

Already covered there (not repeated): arbitrary bytes, NUL bytes and invalid UTF-8, broken IRC
tag escapes, emote ranges out of range or overlapping, 10,000-char messages, wrong JSON shapes,
mutated valid records, garbage files with a gzip magic number.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.events import ChatEvent
from ingestion.generator import ChatGenerator
from ingestion.importer import _SNIFF_BYTES, import_paths
from ingestion.landing import files_for_window
from ingestion.load import load_partition
from ingestion.sources import parser_for
from twitch_warehouse.db import PgUrl

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)


def _good_lines(n_per_minute: float = 6) -> list[str]:
    chat = ChatGenerator(["alpha"], HOUR, 1, seed=31, messages_per_minute=n_per_minute).generate()
    return chat.lines_by_channel["alpha"]


def _hostile_lines(rng: random.Random, count: int) -> list[bytes]:
    """Lines no parser can accept: random bytes, NUL, invalid UTF-8, broken tags, huge."""
    ts = int(HOUR.timestamp() * 1000) + 1000
    makers = [
        lambda: bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 300))),
        lambda: f"@id=n{rng.random()};tmi-sent-ts={ts} :u!u@u PRIVMSG #alpha :a\x00b".encode(),
        lambda: b"@id=x;tmi-sent-ts=1 :u!u@u PRIVMSG #alpha :\xff\xfe bad utf-8",
        lambda: b"@id=x;tmi-sent-ts=1 :u!u@u PRIVMSG #alpha :\xed\xa0\x80 surrogate",
        lambda: b"@" + b";".join(b"k\\" * rng.randrange(1, 9) for _ in range(5)),
        lambda: b"@badges=;tmi-sent-ts=not-a-number :u!u@u PRIVMSG #alpha :x",
        # Past what `datetime.fromtimestamp` takes (it raises OSError, not ValueError).
        lambda: b"@id=far;tmi-sent-ts=100000000000000000000 :u!u@u PRIVMSG #alpha :far future",
        lambda: b"PRIVMSG #alpha",
        lambda: (
            b"@id=big;tmi-sent-ts="
            + str(ts).encode()
            + b" :u!u@u PRIVMSG #alpha :"
            + b"\x00" * 10_000
        ),
        lambda: b":tmi.twitch.tv CLEARMSG #alpha :no target id",
        lambda: b"@msg-id= :tmi.twitch.tv USERNOTICE #alpha",
    ]
    lines = []
    while len(lines) < count:
        line = rng.choice(makers)()
        line = line.replace(b"\n", b" ").replace(b"\r", b" ")
        items = list(parser_for("irc")([line]))
        if items and not isinstance(items[0], ChatEvent):  # a Reject, not connection chatter
            lines.append(line)
    return lines


@pytest.mark.integration
def test_fuzzed_lines_are_quarantined_with_reasons_and_good_lines_load(
    migrated: PgUrl, tmp_path: Path
) -> None:
    rng = random.Random(2026)
    good = _good_lines()
    bad = _hostile_lines(rng, 400)
    mixed: list[bytes] = [g.encode() for g in good]
    for line in bad:
        mixed.insert(rng.randrange(len(mixed) + 1), line)
    path = tmp_path / "irc" / "alpha" / f"{HOUR:%Y-%m-%d}" / f"{HOUR:%H}.log"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(line + b"\n" for line in mixed))
    with psycopg.connect(migrated.libpq()) as conn:
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        stored = conn.execute("select count(*) from raw.chat_events").fetchone()[0]  # type: ignore[index]
        quarantined = conn.execute(
            "select line_no, payload, reason from raw.quarantine order by line_no"
        ).fetchall()
    assert result.loaded == stored == len(good)  # lost 0
    assert result.duplicates == 0
    assert result.rejects == len(quarantined) == len(bad)
    assert all(reason for _, _, reason in quarantined)
    assert sorted(bytes(p) for _, p, _ in quarantined) == sorted(bad)  # the bytes, verbatim
    for line_no, payload, _ in quarantined:
        assert mixed[line_no - 1] == bytes(payload)  # with the right line number
    print(
        f"\nFIGURE fuzz->warehouse: {len(bad)} fuzzed lines among {len(good)} good ones: "
        f"{len(quarantined)} quarantined with a reason ({len(result.rejects_by_reason)} reasons),"
        f" {stored} loaded, lost 0, duplicated 0"
    )


def _gz_irc(tmp_path: Path) -> tuple[bytes, int]:
    lines = _good_lines(10)
    return gzip.compress("".join(f"{line}\n" for line in lines).encode()), len(lines)


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.7, 0.97, -8, -1])
def test_truncated_gzip_is_an_error_naming_the_truncation_and_lands_nothing(
    tmp_path: Path, keep: float
) -> None:
    """All or nothing per file: a truncated gzip never lands a prefix and never silently lands
    nothing. Cut inside the format-sniffing window, detection fails (`UnknownFormatError`:
    unreadable); cut later (down to a missing trailer byte), reading the lines hits `EOFError`.
    Either way the report carries gzip's own end-of-stream error."""
    data, _ = _gz_irc(tmp_path)
    cut = int(len(data) * keep) if keep > 0 else len(data) + int(keep)
    truncated = data[:cut]
    with pytest.raises(EOFError) as eof:  # what gzip says about this very input
        gzip.decompress(truncated)
    readable = len(zlib.decompressobj(wbits=31).decompress(truncated))
    path = tmp_path / "in" / "alpha.log.gz"
    path.parent.mkdir()
    path.write_bytes(truncated)

    report = import_paths([path], tmp_path / "landing", channel_hint="alpha")

    (file_report,) = report.files
    if readable < _SNIFF_BYTES:
        assert file_report.error == f"UnknownFormatError: {path}: unreadable ({eof.value})"
    else:
        assert file_report.error == f"EOFError: {eof.value}"
    assert (file_report.landed, file_report.rejected, file_report.skipped) == (0, 0, 0)
    assert file_report.landing_files == [] and report.errors == [file_report]
    # No file at all under landing/, the importer's hidden temp names included.
    assert [f for f in (tmp_path / "landing").rglob("*") if f.is_file()] == []


CD_ITEM = {
    "message_id": "a",
    "message": "Kappa hi",
    "timestamp": 1_700_000_000_000_000,
    "message_type": "text_message",
    "author": {"id": "1", "name": "u", "badges": [{"name": "vip", "version": 1}]},
    "emotes": [{"id": "25", "name": "Kappa", "locations": ["0-4"]}],
}


@pytest.mark.integration
def test_import_rejects_reach_quarantine_and_good_records_land(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitch_warehouse.importing import quarantine_rejects

    good = []
    for i in range(40):
        item = copy.deepcopy(CD_ITEM)
        item.update(message_id=f"m{i}", timestamp=CD_ITEM["timestamp"] + i * 1_000_000)
        good.append(item)
    bad: list[object] = [
        {**CD_ITEM, "message_id": "b1", "timestamp": "yesterday"},
        {**CD_ITEM, "message_id": "b2", "author": "not an object"},
        {**CD_ITEM, "message_id": "b3", "message": {"nested": True}},
        {**CD_ITEM, "message_id": "b4", "timestamp": None},
        ["a", "list", "not", "a", "record"],
        "a bare string",
    ]
    items = good + bad
    random.Random(4).shuffle(items)
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(items))
    report = import_paths([path], tmp_path / "landing", channel_hint="alpha")
    (file_report,) = report.files
    assert file_report.error is None, file_report.error
    assert file_report.landed == len(good)
    assert file_report.rejected == len(bad)
    quarantine_rejects(report)
    # The same file again, named relative to the working directory: its rows are replaced.
    monkeypatch.chdir(tmp_path)
    again = import_paths([Path("chat.json")], tmp_path / "landing", channel_hint="alpha")
    stored = quarantine_rejects(again)
    with psycopg.connect(migrated.libpq()) as conn:
        rows = conn.execute(
            "select landing_file, reason from raw.quarantine where source = 'import'"
        ).fetchall()
    assert stored == len(rows) == len(bad) and all(reason for _, reason in rows)
    assert {name for name, _ in rows} == {str(path.resolve())}
