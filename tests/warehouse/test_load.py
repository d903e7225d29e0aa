"""The partition loader against a real PostgreSQL: replace-the-window, dedup, quarantine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition
from twitch_warehouse.db import PgUrl

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)


def _land(root: Path, hours: int = 1, seed: int = 7) -> list[str]:
    chat = ChatGenerator(
        ["alpha", "beta"], HOUR, hours, seed=seed, messages_per_minute=10
    ).generate()
    with HourlyWriter(root, "irc") as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            writer.write(channel, sent_at, line)
    return [line for lines in chat.lines_by_channel.values() for line in lines]


def _snapshot(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select channel, event_id, event_type, sent_at, body, emotes::text, raw_payload"
        " from raw.chat_events order by channel, event_id"
    ).fetchall()


def test_rerun_of_a_partition_leaves_raw_identical(migrated: PgUrl, tmp_path: Path) -> None:
    lines = _land(tmp_path, hours=2)
    first_hour = [line for line in lines if f"tmi-sent-ts={int(NEXT.timestamp())}" not in line]
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        before = _snapshot(conn)
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        after = _snapshot(conn)
    assert before == after
    assert result.loaded == len(before) > 0
    assert len(before) < len(first_hour)  # the second hour stays out of the first window
    assert all(HOUR <= row[3] < NEXT for row in after)


def test_a_message_from_two_sources_is_stored_once(migrated: PgUrl, tmp_path: Path) -> None:
    lines = _land(tmp_path)
    # The same lines again, as if a log API had also delivered them.
    with HourlyWriter(tmp_path, "irc") as writer:
        for line in lines[:50]:
            writer.write("alpha" if "#alpha" in line else "beta", HOUR, line)
    with psycopg.connect(migrated.libpq()) as conn:
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        stored = conn.execute("select count(*) from raw.chat_events").fetchone()[0]  # type: ignore[index]
    assert result.duplicates == 50
    assert stored == result.parsed - 50


def test_garbage_is_quarantined_and_good_lines_load(migrated: PgUrl, tmp_path: Path) -> None:
    lines = _land(tmp_path)
    path = files_for_window(tmp_path, HOUR, NEXT)[0].path
    with path.open("ab") as fh:
        fh.write(b"not irc at all\n\xff\xfe invalid utf-8\n@broken\nPRIVMSG #alpha :no tags\n")
    with psycopg.connect(migrated.libpq()) as conn:
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        reasons = [r[0] for r in conn.execute("select reason from raw.quarantine order by line_no")]
    assert result.loaded == len(lines)
    assert result.rejects == 4
    assert len(reasons) == 4 and all(reasons)
    assert any("UTF-8" in r for r in reasons)


def test_a_failed_load_leaves_the_previous_rows(migrated: PgUrl, tmp_path: Path) -> None:
    _land(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files)
        before = _snapshot(conn)

        def exploding():
            yield from files
            raise OSError("disk vanished mid-load")

        with pytest.raises(OSError):
            load_partition(conn, HOUR, NEXT, exploding())
        assert _snapshot(conn) == before


def test_copy_rows_match_the_jsonb_rows_of_event_row() -> None:
    """The loader's pre-encoded jsonb cells are byte for byte what psycopg's Jsonb dumper sends."""
    from psycopg.adapt import PyFormat, Transformer
    from psycopg.types.json import Jsonb

    from ingestion.irc import parse_line
    from ingestion.load import EVENT_TYPES, copy_row, event_row

    line = (
        "@badge-info=subscriber/8;badges=subscriber/6,premium/1;emotes=25:0-4/1902:6-10;"
        "id=m1;reply-parent-msg-id=p1;reply-parent-user-login=b\\sb;room-id=1;"
        "tmi-sent-ts=1762020000000;user-id=2 :a!a@a.tmi.twitch.tv PRIVMSG #alpha :Kappa Keepo é"
    )
    event = parse_line(line)
    assert event is not None
    dumper = Transformer().get_dumper(Jsonb([]), PyFormat.BINARY)
    for plain, fast, pg_type in zip(event_row(event), copy_row(event), EVENT_TYPES, strict=True):
        if pg_type == "jsonb":
            assert fast == dumper.dump(plain)
        else:
            assert fast == plain


def test_the_dedup_path_and_the_no_duplicate_path_store_the_same_rows(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingestion.load as load_module

    _land(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        fast = load_partition(conn, HOUR, NEXT, files)
        fast_rows = _snapshot(conn)
        monkeypatch.setattr(load_module, "_MAX_TRACKED_KEYS", 0)  # always distinct-on in SQL
        sorted_ = load_partition(conn, HOUR, NEXT, files)
        assert _snapshot(conn) == fast_rows
    assert fast.loaded == sorted_.loaded == len(fast_rows) > 0
    assert fast.duplicates == sorted_.duplicates == 0
