"""The partition loader against a real PostgreSQL: replace-the-window, dedup, quarantine."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition
from tests.edge_copies import land_copies_across_edge
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


def test_copies_either_side_of_an_hour_are_stored_once_whatever_the_run(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """IRC stamps a message 12:59:59.9, its VOD export 13:00:00.1: one row (the IRC copy, the
    preferred source) whether the hours load together, one by one, in either order, or again."""
    h12, h13 = HOUR - timedelta(hours=6), HOUR - timedelta(hours=5)
    h14 = h13 + timedelta(hours=1)
    land_copies_across_edge(tmp_path, h13, before="irc", after="gql")
    stored = "select source, sent_at from raw.chat_events where event_id = 'm1'"

    def load(start: datetime, end: datetime) -> None:
        load_partition(conn, start, end, files_for_window(tmp_path, start, end))

    with psycopg.connect(migrated.libpq()) as conn:
        both, first, second = (h12, h14), (h12, h13), (h13, h14)
        runs = [[both], [both, second], [first, second], [second, first],
                [second, first, second, both]]  # fmt: skip
        for order in runs:
            conn.execute("delete from raw.chat_events")
            for start, end in order:
                load(start, end)
            assert conn.execute(stored).fetchall() == [("irc", h13 - timedelta(milliseconds=100))]


def test_an_hour_that_lost_a_copy_to_its_neighbour_is_noted_until_loaded_again(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """A VOD export stamps a message 12:59:59.9, IRC 13:00:00.1. Loading 13:00 after 12:00 keeps
    the IRC copy and deletes the other from the built hour 12, which is noted as stale until it
    is loaded again, with hour 13; loading both at once, or 12:00 again, notes nothing."""
    from ingestion.load import stale_hours

    h12, h13 = HOUR - timedelta(hours=6), HOUR - timedelta(hours=5)
    h14 = h13 + timedelta(hours=1)
    land_copies_across_edge(tmp_path, h13, before="gql", after="irc")

    def load(start: datetime, end: datetime) -> list[datetime]:
        files = files_for_window(tmp_path, start, end)
        return load_partition(conn, start, end, files).neighbour_hours_changed

    with psycopg.connect(migrated.libpq()) as conn:
        assert load(h12, h13) == []
        assert load(h13, h14) == [h12]
        # And hour 13, built with the first-seen time of a message that has left hour 12.
        assert [hour for hour, _ in stale_hours(conn)] == [h12, h13]
        assert load(h12, h13) == []  # the hour's own load clears its note
        assert [hour for hour, _ in stale_hours(conn)] == [h13]
        assert conn.execute("select source from raw.chat_events").fetchall() == [("irc",)]
        assert load(h12, h14) == [] and stale_hours(conn) == []


def test_an_hour_whose_events_changed_sends_the_built_hours_after_it_back(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Later hours read back into an hour (burst baselines, hype features). An hour loaded after
    them, a changed landing file (same counts, other text) and a withdrawn one each note those
    built hours as stale; a load that stores the same rows notes nothing."""
    from ingestion.load import hours_landed_after_load, stale_hours

    h17, h18, h19 = HOUR - timedelta(hours=1), HOUR, NEXT
    with HourlyWriter(tmp_path, "irc") as writer:
        for hour in (h17, h18):
            at = hour + timedelta(minutes=5)
            ms = int(at.timestamp() * 1000)
            line = f"@id=m{ms};room-id=1;user-id=2;tmi-sent-ts={ms} :bob!bob@bob.tmi.twitch.tv"
            writer.write("alpha", at, f"{line} PRIVMSG #alpha :hello")
    (h17_file,) = files_for_window(tmp_path, h17, h18)

    def load(hour: datetime) -> list[datetime]:
        files = files_for_window(tmp_path, hour, hour + timedelta(hours=1))
        changed = load_partition(conn, hour, hour + timedelta(hours=1), files).hours_changed
        conn.commit()
        return changed

    def stale() -> list[datetime]:
        return [hour for hour, _ in stale_hours(conn)]

    # Hype features of an hour read 6 h 15 min back: the seventh hour after h17 reads into it,
    # the eighth does not.
    seventh, eighth = h17 + timedelta(hours=7), h17 + timedelta(hours=8)
    with psycopg.connect(migrated.libpq()) as conn:
        assert load(h18) == [h18]
        assert load(seventh) == load(eighth) == [] == stale()  # nothing there, nothing changed
        assert load(h17) == [h17]  # loaded after the hours it precedes
        assert stale() == [h18, seventh]
        assert load(h18) == load(seventh) == [] == stale()  # the same rows: nothing changes
        assert load(h17) == [] and stale() == []

        h17_file.path.write_text(h17_file.path.read_text().replace("hello", "hallo"))
        assert load(h17) == [h17] and stale() == [h18, seventh]
        assert load(h18) == load(seventh) == [] == stale()

        # A withdrawn file: the landed-hours sensor asks for its hour, whose load then empties it.
        h17_file.path.unlink()
        assert [hour for hour, _ in hours_landed_after_load(conn, tmp_path, h17, h19)] == [h17]
        assert load(h17) == [h17] and stale() == [h18, seventh]
        assert hours_landed_after_load(conn, tmp_path, h17, h19) == []

        # Hours loaded before digests were kept get theirs from migration 0013, the same as a
        # load's: an upgrade's first reload of an unchanged hour changes nothing.
        from ingestion.load import FILL_CONTENT_HASHES

        load(h18)
        load(seventh)
        digests = "select partition_start, content_hash from raw.partition_loads order by 1"
        loaded_digests = conn.execute(digests).fetchall()
        conn.execute("update raw.partition_loads set content_hash = null")
        conn.execute(FILL_CONTENT_HASHES)
        assert conn.execute(digests).fetchall() == loaded_digests
        assert load(h18) == [] and stale() == []


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
    # Counted by kind, without the values that would make every reject its own key.
    assert sum(result.rejects_by_reason.values()) == 4
    assert not any(
        ch.isdigit() for key in result.rejects_by_reason for ch in key.replace("UTF-8", "")
    )


def test_a_nul_character_is_quarantined_and_the_hour_loads(migrated: PgUrl, tmp_path: Path) -> None:
    """PostgreSQL text cannot hold NUL: one such record once failed the whole hour's COPY."""
    lines = _land(tmp_path)
    record = {"message_id": "n1", "message": "hi\x00there", "message_type": "text_message",
              "timestamp": int(HOUR.timestamp()) * 1_000_000, "author": {"name": "u"}}  # fmt: skip
    with HourlyWriter(tmp_path, "chat_downloader") as writer:
        writer.write("alpha", HOUR, json.dumps({"_import": {"channel": "alpha"}, "record": record}))
    with psycopg.connect(migrated.libpq()) as conn:
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        reasons = [r[0] for r in conn.execute("select reason from raw.quarantine")]
    assert (result.loaded, result.rejects) == (len(lines), 1)
    assert reasons == ["NUL character in a string"]


@pytest.mark.parametrize("parse_worker", [False, True])
def test_an_opted_out_chatters_lines_stay_out_of_quarantine_too(
    migrated: PgUrl, tmp_path: Path, parse_worker: bool
) -> None:
    """Quarantine keeps whole lines: an opted-out chatter's line that cannot be placed (no send
    time) or lies outside its file's hour is counted opted out, not quarantined."""
    lines = _land(tmp_path)
    sent = int((HOUR - timedelta(minutes=5)).timestamp() * 1000)
    with HourlyWriter(tmp_path, "irc") as writer:
        writer.write("alpha", HOUR, "@id=z1;room-id=1 :zed!zed@zed.tmi.twitch.tv PRIVMSG #alpha"
                     " :my number is 555")  # fmt: skip
        writer.write("alpha", HOUR, f"@id=z2;room-id=1;tmi-sent-ts={sent}"
                     " :zed!zed@zed.tmi.twitch.tv PRIVMSG #alpha :earlier")  # fmt: skip
        writer.write("alpha", HOUR, "@id=z3;room-id=1 :amy!amy@amy.tmi.twitch.tv PRIVMSG #alpha"
                     " :untimed too")  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        conn.execute("insert into raw.chatter_optouts (user_login) values ('zed')")
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT),
                                parse_worker=parse_worker)  # fmt: skip
        quarantined = [bytes(p) for (p,) in conn.execute("select payload from raw.quarantine")]
    assert (result.loaded, result.opted_out, result.rejects) == (len(lines), 2, 1)
    assert len(quarantined) == 1 and b"amy" in quarantined[0]


@pytest.mark.parametrize("parse_worker", [False, True])
def test_a_truncated_gzip_keeps_its_lines_before_the_cut(
    migrated: PgUrl, tmp_path: Path, parse_worker: bool
) -> None:
    _land(tmp_path)
    alpha = next(f.path for f in files_for_window(tmp_path, HOUR, NEXT) if "alpha" in f.path.parts)
    whole = gzip.compress(alpha.read_bytes())
    cut = whole[: len(whole) // 2]
    kept = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")  # whole lines before it
    count_by_channel = "select channel, count(*) from raw.chat_events group by 1"
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        intact = dict(conn.execute(count_by_channel).fetchall())
        alpha.unlink()
        alpha.with_name(alpha.name + ".gz").write_bytes(cut)  # the hour again, alpha cut short
        result = load_partition(
            conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT), parse_worker=parse_worker
        )
        stored = dict(conn.execute(count_by_channel).fetchall())
        quarantined = conn.execute("select line_no, reason from raw.quarantine").fetchall()
    assert 0 < kept < intact["alpha"]
    assert stored == {"alpha": kept, "beta": intact["beta"]}
    assert result.rejects == 1
    ((line_no, reason),) = quarantined
    assert line_no == kept + 1 and reason.startswith(f"unreadable gzip after line {kept}:")


def test_a_failed_load_leaves_the_previous_rows(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingestion.load as load_module
    from ingestion.landing import read_lines

    _land(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files)
        conn.execute("delete from raw.chat_events where event_type <> 'message'")
        conn.commit()
        before = _snapshot(conn)  # a previous load that differs from the one that fails
        streamed = 0

        def vanishing(path: Path):  # the disk goes away 200 lines into the COPY
            nonlocal streamed
            for line in read_lines(path):
                streamed += 1
                if streamed == 200:
                    raise OSError("disk vanished mid-load")
                yield line

        monkeypatch.setattr(load_module, "read_lines", vanishing)
        with pytest.raises(OSError):
            load_partition(conn, HOUR, NEXT, files, parse_worker=False)
        assert streamed == 200  # the failure came while rows were being sent
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


def test_every_dedup_path_stores_the_same_rows(migrated: PgUrl, tmp_path: Path) -> None:
    """No repeats: COPY straight into the table. Repeats at another time (a second source that
    stamped the message 1 ms later): COPY, then drop the worse copies. Repeats at the same time
    (the primary key stops the COPY): through a staging table. All keep the same rows."""
    lines = _land(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        plain = load_partition(conn, HOUR, NEXT, files)
        rows = _snapshot(conn)
    privmsgs = [line for line in lines if " PRIVMSG " in line][:40]
    later = tmp_path / "later"
    with HourlyWriter(later, "irc") as writer:
        for line in privmsgs:
            ts = int(line.split("tmi-sent-ts=", 1)[1].split(";", 1)[0].split(" ", 1)[0])
            shifted = line.replace(f"tmi-sent-ts={ts}", f"tmi-sent-ts={ts + 1}")
            writer.write("alpha" if "#alpha" in line else "beta", HOUR, shifted)
    with psycopg.connect(migrated.libpq()) as conn:
        shifted_result = load_partition(
            conn, HOUR, NEXT, files + files_for_window(later, HOUR, NEXT)
        )
        assert _snapshot(conn) == rows
        same_time = load_partition(conn, HOUR, NEXT, files + files[:1])
        assert _snapshot(conn) == rows
    assert plain.loaded == shifted_result.loaded == same_time.loaded == len(rows) > 0
    assert plain.duplicates == 0
    assert shifted_result.duplicates == 40
    assert same_time.duplicates == sum(1 for _ in files[0].path.open("rb")) > 0


# ---------------------------------------------------------------------------------------------
# Parsing in a worker process (`ingestion.parallel_parse`) vs in the loader's process
# ---------------------------------------------------------------------------------------------

FULL_ROW_SQL = (
    "select event_id, channel, event_type, sent_at, source, channel_id, user_id, user_login,"
    " display_name, body, is_action, emotes, badges, badge_info, bits, is_first_message,"
    " reply_parent_id, source_channel_id, notice_kind, target_user_id, target_user_login,"
    " target_message_id, duration_seconds, params, raw_payload"
    " from raw.chat_events order by channel, event_id, sent_at"
)
QUARANTINE_SQL = (
    "select partition_start, source, landing_file, line_no, channel, payload, reason"
    " from raw.quarantine order by landing_file, line_no, reason"
)


def _messy_landing(root: Path) -> tuple[list[str], str]:
    """Two hours of chat in four channels plus garbage, an out-of-hour line, a repeat; the
    login of a chatter to opt out."""
    chat = ChatGenerator(
        ["alpha", "beta", "gamma", "delta"], HOUR, 2, seed=11, messages_per_minute=12
    ).generate()
    with HourlyWriter(root, "irc") as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            writer.write(channel, sent_at, line)
    lines = chat.lines_by_channel["beta"]
    files = files_for_window(root, HOUR, NEXT)
    with files[0].path.open("ab") as fh:  # alpha's hour: garbage, a line of the next hour
        fh.write(b"not irc at all\n\xff\xfe invalid utf-8\n")
        fh.write(lines[-1].encode() + b"\n")  # beta's last line: in the second hour
    with files[-1].path.open("ab") as fh:  # delta's hour repeats a line of beta's
        fh.write(lines[5].encode() + b"\n@broken\n")
    login = next(x for x in lines if "PRIVMSG" in x).split(" :", 1)[1].split("!", 1)[0]
    return lines, login


def _load_everything(conn: psycopg.Connection, files: list, **kwargs: object) -> tuple:
    from dataclasses import asdict

    result = load_partition(conn, HOUR, NEXT, files, **kwargs)  # type: ignore[arg-type]
    # Whether the hour changed depends on what the previous load stored, not on how it parsed.
    summary = {k: v for k, v in asdict(result).items() if k not in ("seconds", "hours_changed")}
    state = (
        summary,
        conn.execute(FULL_ROW_SQL).fetchall(),
        conn.execute(QUARANTINE_SQL).fetchall(),
        conn.execute(
            "select partition_start, files, events, rejects, content_hash from raw.partition_loads"
        ).fetchall(),
    )
    conn.commit()  # the next load starts its own transaction
    return state


def test_the_parse_worker_and_in_process_parsing_store_identical_rows(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingestion.load as load_module
    import ingestion.parallel_parse as parallel_parse

    _, login = _messy_landing(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    assert all(400 < sum(1 for _ in f.path.open("rb")) < 800 for f in files)
    here: list[int] = []  # batches of whole files the loader parsed itself, worker busy
    real_parse = parallel_parse.parse_whole_files

    def spy(batch: list, *args: object) -> parallel_parse.BatchResult:
        here.append(len(batch))
        return real_parse(batch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel_parse, "parse_whole_files", spy)
    with psycopg.connect(migrated.libpq()) as conn:
        conn.execute("insert into raw.chatter_optouts (user_login) values (%s)", (login,))
        conn.commit()
        single = _load_everything(conn, files, parse_worker=False)
        # One file a batch: the first ones go to the (starting) worker, the next parse here.
        monkeypatch.setattr(load_module, "_BATCH_LINES", 400)
        worker = _load_everything(conn, files, parse_worker=True)
        assert here
        # Tiny batches: every file is cut over batches, all parsed by the worker.
        monkeypatch.setattr(load_module, "_BATCH_LINES", 100)
        cut = _load_everything(conn, files, parse_worker=True)
    summary, rows, quarantine, _ = single
    assert summary["loaded"] == len(rows) > 1000
    assert summary["duplicates"] == 1 and summary["opted_out"] > 0
    assert summary["rejects"] == 4 == len(quarantine)
    assert any("outside its landing file's hour" in q[-1] for q in quarantine)
    assert worker == single
    assert cut == single


def test_auto_mode_uses_the_worker_only_for_large_loads(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    import ingestion.load as load_module
    import ingestion.parallel_parse as parallel_parse

    _messy_landing(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    started: list[bool] = []
    real_enter = parallel_parse.ParseWorker.__enter__

    def spy(self: parallel_parse.ParseWorker) -> parallel_parse.ParseWorker:
        started.append(True)
        return real_enter(self)

    monkeypatch.setattr(parallel_parse.ParseWorker, "__enter__", spy)
    with psycopg.connect(migrated.libpq()) as conn:
        small = _load_everything(conn, files)  # ~1.5k lines: below PARSE_WORKER_MIN_LINES
        assert started == []
        monkeypatch.setattr(load_module, "PARSE_WORKER_MIN_LINES", 500)
        monkeypatch.setattr(load_module, "_BATCH_LINES", 500)
        large = _load_everything(conn, files)
        # Twice: the line repeated at the same time stops the direct COPY, and the load parses
        # again into the staging table.
        assert started == [True, True]
        monkeypatch.setenv(load_module.PARSE_WORKER_ENV, "0")  # the setting forces one process
        forced = _load_everything(conn, files)
        assert started == [True, True]
    assert small == large == forced
    assert not [p for p in multiprocessing.active_children() if p.name == "ingestion-parse-worker"]


def test_a_killed_parse_worker_fails_the_load_and_leaves_the_previous_rows(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing
    import os
    import signal

    import ingestion.load as load_module
    from ingestion.landing import read_lines
    from ingestion.parallel_parse import ParseWorkerError

    _messy_landing(tmp_path)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        before = _load_everything(conn, files, parse_worker=False)
        opened: list[Path] = []

        def killing_reader(path: Path):
            opened.append(path)
            if len(opened) == 3:  # the worker is parsing the first files: kill it (OOM, ...)
                for child in multiprocessing.active_children():
                    if child.name == load_module.PARSE_WORKER_NAME:
                        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
            yield from read_lines(path)

        monkeypatch.setattr(load_module, "read_lines", killing_reader)
        monkeypatch.setattr(load_module, "_BATCH_LINES", 100)
        with pytest.raises(ParseWorkerError, match="died"):
            load_partition(conn, HOUR, NEXT, files, parse_worker=True)
        monkeypatch.undo()
        assert conn.execute(FULL_ROW_SQL).fetchall() == before[1]
        assert conn.execute(QUARANTINE_SQL).fetchall() == before[2]
        conn.commit()
        again = _load_everything(conn, files, parse_worker=True)  # and the retry is clean
    assert again == before
    assert not [p for p in multiprocessing.active_children() if p.name == "ingestion-parse-worker"]


def test_a_moderation_action_seen_by_irc_and_eventsub_is_stored_once(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """IRC's CLEARCHAT and EventSub's channel.moderate stamp one timeout a millisecond apart with
    ids from their own clocks: one row (IRC's), while other actions stay."""
    import json

    from ingestion.landing import landing_path

    at = HOUR + timedelta(minutes=53, seconds=49, milliseconds=800)
    ms = int(at.timestamp() * 1000)
    irc = landing_path(tmp_path, "irc", "alpha", HOUR)
    irc.parent.mkdir(parents=True, exist_ok=True)
    irc.write_text(
        f"@ban-duration=600;room-id=1;target-user-id=42;tmi-sent-ts={ms}"
        " :tmi.twitch.tv CLEARCHAT #alpha :rude\n"
        f"@room-id=1;tmi-sent-ts={ms + 1100} :tmi.twitch.tv CLEARCHAT #alpha\n"
        # IRC missed the second of two quick timeouts of `twice` (a reconnect).
        f"@ban-duration=60;room-id=1;target-user-id=44;tmi-sent-ts={ms + 3000}"
        " :tmi.twitch.tv CLEARCHAT #alpha :twice\n"
    )

    def moderate(n: int, seconds: float, action: str, detail: dict | None) -> str:
        stamp = (at + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
        event = {"broadcaster_user_id": "1", "broadcaster_user_login": "alpha",
                 "moderator_user_login": "mod", "action": action, action: detail}  # fmt: skip
        return json.dumps({
            "metadata": {"message_id": f"n{n}", "message_type": "notification",
                         "message_timestamp": stamp, "subscription_type": "channel.moderate",
                         "subscription_version": "2"},
            "payload": {"subscription": {"type": "channel.moderate"}, "event": event},
        })  # fmt: skip

    def timeout(user_id: str, login: str, seconds: float) -> dict:
        expires = (at + timedelta(seconds=seconds + 600)).isoformat().replace("+00:00", "Z")
        return {"user_id": user_id, "user_login": login, "user_name": login,
                "expires_at": expires, "reason": ""}  # fmt: skip

    eventsub = landing_path(tmp_path, "eventsub", "alpha", HOUR)
    eventsub.parent.mkdir(parents=True, exist_ok=True)
    eventsub.write_text("\n".join([
        moderate(1, 0.002, "timeout", timeout("42", "rude", 0.002)),  # IRC's timeout
        moderate(2, 1.101, "clear", None),  # IRC's clear
        moderate(3, 0.5, "timeout", timeout("43", "other", 0.5)),  # another chatter
        moderate(4, 60.0, "timeout", timeout("42", "rude", 60.0)),  # a second timeout
        moderate(5, 3.05, "timeout", timeout("44", "twice", 3.05)),  # IRC's
        moderate(6, 4.6, "timeout", timeout("44", "twice", 4.6)),  # the one IRC missed
    ]) + "\n")  # fmt: skip
    stored = (
        "select event_type, source, target_user_login from raw.chat_events"
        " order by sent_at, event_type"
    )
    with psycopg.connect(migrated.libpq()) as conn:
        result = load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        rows = conn.execute(stored).fetchall()
        assert rows == [
            ("timeout", "irc", "rude"),
            ("timeout", "eventsub", "other"),
            ("clear", "irc", None),
            ("timeout", "irc", "twice"),
            ("timeout", "eventsub", "twice"),
            ("timeout", "eventsub", "rude"),
        ]
        assert result.duplicates == 3 and result.loaded == 6
        load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        assert conn.execute(stored).fetchall() == rows  # a rerun stores the same rows


def test_an_action_of_known_kind_outranks_eventsubs_kind_unknown_ban(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Without moderator access EventSub sees a timeout as a BAN of unknown kind; a log line that
    says "timed out for 10m0s" is the row kept, though its source ranks lower."""
    import json

    from ingestion.landing import landing_path

    at = HOUR + timedelta(minutes=20, seconds=5, milliseconds=300)
    log = landing_path(tmp_path, "text_log", "alpha", HOUR)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"[{at:%Y-%m-%d %H:%M:%S}] #alpha rude has been timed out for 10m0s\n")
    eventsub = landing_path(tmp_path, "eventsub", "alpha", HOUR)
    eventsub.parent.mkdir(parents=True, exist_ok=True)
    event = {"broadcaster_user_id": "1", "broadcaster_user_login": "alpha",
             "target_user_id": "42", "target_user_login": "rude",
             "target_user_name": "rude"}  # fmt: skip
    eventsub.write_text(json.dumps({
        "metadata": {"message_id": "n1", "message_type": "notification",
                     "message_timestamp": at.isoformat().replace("+00:00", "Z"),
                     "subscription_type": "channel.chat.clear_user_messages",
                     "subscription_version": "1"},
        "payload": {"subscription": {"type": "channel.chat.clear_user_messages"},
                    "event": event},
    }) + "\n")  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(tmp_path, HOUR, NEXT))
        rows = conn.execute(
            "select event_type, source, duration_seconds from raw.chat_events"
        ).fetchall()
    assert rows == [("timeout", "text_log", 600)]
