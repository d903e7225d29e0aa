"""Two loads of the same partition at once (a backfill and the schedule), 20 times over.

Figure: the advisory lock serializes them (each pair's transactions never overlap in time: the
second acquires the lock only after the first committed), every repetition leaves exactly the
rows of a single load (same checksum), no (channel, event_id) twice, no lost rows.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion import load as load_module
from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.landing import HourlyWriter, files_for_window, read_lines
from ingestion.load import load_partition
from tests.reliability.conftest import table_checksum
from twitch_warehouse.db import PgUrl

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reliability")]

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)
REPETITIONS = 20
WINDOW_SQL = (
    "select channel, event_id, event_type, sent_at, body, raw_payload from raw.chat_events"
    " order by channel, event_id"
)


class ReadClock:
    """Wraps the loader's `read_lines`: when each thread first and last read a landing line.

    The loader reads (parses) its files inside its transaction, after taking the lock, so two
    loads that interleave would show overlapping read spans.
    """

    def __init__(self) -> None:
        self.spans: dict[int, list[float]] = {}

    def __call__(self, path: Path):
        span = self.spans.setdefault(threading.get_ident(), [time.monotonic(), 0.0])
        yield from read_lines(path)
        span[1] = time.monotonic()


def test_concurrent_loads_of_one_partition_are_serialized(
    migrated: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ChatGenerator(["alpha", "beta"], HOUR, 1, seed=5, messages_per_minute=20).generate()
    with HourlyWriter(tmp_path, "irc", batch_size=10_000) as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            writer.write(channel, sent_at, line)
    files = files_for_window(tmp_path, HOUR, NEXT)
    with psycopg.connect(migrated.libpq()) as conn:
        single = load_partition(conn, HOUR, NEXT, files)
        expected = table_checksum(conn, WINDOW_SQL)
    assert expected[0] == single.loaded > 1000

    waits: list[float] = []
    blocked = 0
    for _ in range(REPETITIONS):
        barrier = threading.Barrier(2)
        clock = ReadClock()
        monkeypatch.setattr(load_module, "read_lines", clock)
        errors: list[BaseException] = []

        def load(barrier: threading.Barrier = barrier, errors: list = errors) -> None:
            try:
                with psycopg.connect(migrated.libpq()) as conn:
                    barrier.wait(10)
                    load_partition(conn, HOUR, NEXT, files)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        blocked_seen = _watch_lock_waiters(migrated, threads)
        assert errors == [] and len(clock.spans) == 2
        (a_start, a_end), (b_start, _) = sorted(clock.spans.values())
        # The second reads its files only after the first finished: no interleaving.
        assert b_start >= a_end
        waits.append(b_start - a_start)
        blocked += blocked_seen
        with psycopg.connect(migrated.libpq()) as conn:
            assert table_checksum(conn, WINDOW_SQL) == expected
            dupes = conn.execute(
                "select count(*) from (select channel, event_id from raw.chat_events"
                " group by 1, 2 having count(*) > 1) as d"
            ).fetchone()[0]  # type: ignore[index]
            assert dupes == 0
    print(
        f"\nFIGURE concurrent loads: {REPETITIONS} pairs, 0 interleaved, rows = single load "
        f"({expected[0]}) every time, duplicates 0, second waited "
        f"{min(waits):.2f}-{max(waits):.2f}s; a loader seen blocked on the advisory lock in "
        f"{blocked}/{REPETITIONS} pairs"
    )
    assert blocked >= REPETITIONS // 2


def _watch_lock_waiters(url: PgUrl, threads: list[threading.Thread]) -> int:
    """Poll pg_locks while the loaders run; 1 if one was seen waiting on the advisory lock."""
    seen = 0
    with psycopg.connect(url.libpq(), autocommit=True) as conn:
        while any(t.is_alive() for t in threads):
            waiting = conn.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted"
            ).fetchone()[0]  # type: ignore[index]
            seen = seen or int(waiting > 0)
            time.sleep(0.005)
    for t in threads:
        t.join(120)
    return seen
