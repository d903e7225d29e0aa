"""Two runs building one hour's incremental model at once take turns (real PostgreSQL, real dbt).

A run building `fct_chat_messages` waits while another transaction holds the model's write lock,
then replaces the window: one row per message, not the rows of both runs.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition
from tests.dbt_cli import start_dbt
from tests.locks import WAITING_FOR_ADVISORY_LOCKS
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

TEN = datetime(2026, 5, 3, 10, tzinfo=UTC)
MODEL = "fct_chat_messages"


def _load_hour(conn: psycopg.Connection, tmp: Path, logins: list[str]) -> None:
    """Hour 10 with one message a minute by each of `logins` in turn (ids m0, m1, ...)."""
    with HourlyWriter(tmp / "landing", "irc") as writer:
        for m, who in enumerate(logins):
            at = TEN + timedelta(minutes=m)
            writer.write("chan", at, f"@id=m{m};room-id=7;user-id=1;tmi-sent-ts="
                         f"{int(at.timestamp() * 1000)} :{who}!{who}@{who}.tmi.twitch.tv"
                         " PRIVMSG #chan :hello")  # fmt: skip
    end = TEN + timedelta(hours=1)
    load_partition(conn, TEN, end, files_for_window(tmp / "landing", TEN, end))


def _advisory_waits(conn: psycopg.Connection, process: subprocess.Popen[str]) -> int:
    """Advisory locks waited for, once `process` reaches one (0 if it ends or 5 minutes pass)."""
    waiting, deadline = 0, time.monotonic() + 300
    while not waiting and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
        row = conn.execute(WAITING_FOR_ADVISORY_LOCKS).fetchone()
        waiting = row[0] if row else 0
    return waiting


def _dbt(url: PgUrl, tmp: Path, *select: str) -> subprocess.Popen[str]:
    window = (f'{{"window_start": "{TEN.isoformat()}",'
              f' "window_end": "{(TEN + timedelta(hours=1)).isoformat()}"}}')  # fmt: skip
    return start_dbt(url, tmp, "build", "--select", *select, "--exclude", "test_type:unit",
                     "--vars", window)  # fmt: skip


def test_a_run_waits_for_another_writing_the_same_model(migrated: PgUrl, tmp_path: Path) -> None:
    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        _load_hour(conn, tmp_path, ["bob"] * 5)
        built = _dbt(migrated, tmp_path, "+" + MODEL)
        assert built.wait(timeout=600) == 0, built.stdout.read()[-3000:] if built.stdout else ""
        relation = f'"{migrated.database}"."marts"."{MODEL}"'
        with conn.transaction():  # another run's transaction, holding the model's write lock
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (relation,))
            second = _dbt(migrated, tmp_path, MODEL)
            assert _advisory_waits(conn, second) == 1  # at the model's pre-hooks
            time.sleep(2)
            assert second.poll() is None  # still waiting for the lock
        assert second.wait(timeout=600) == 0, second.stdout.read()[-3000:] if second.stdout else ""
        rows = conn.execute(f"select event_id from marts.{MODEL} order by 1").fetchall()
    assert rows == [(f"m{m}",) for m in range(5)]


def test_a_run_waits_for_an_erasure_and_writes_nothing_it_erased(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """`forget` erases under the exclusive erasure lock: a dbt build starting meanwhile reads the
    chat after the erasure, instead of writing back the rows it read before."""
    from twitch_warehouse.privacy import ERASURE_LOCK

    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        _load_hour(conn, tmp_path, ["bob", "zed", "bob", "zed"])
        with conn.transaction():  # an erasure of zed, as `forget` runs it
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (ERASURE_LOCK,))
            build = _dbt(migrated, tmp_path, "+" + MODEL)
            assert _advisory_waits(conn, build) >= 1  # a model per dbt thread, at its pre-hooks
            conn.execute("delete from raw.chat_events where user_login = 'zed'")
        assert build.wait(timeout=600) == 0, build.stdout.read()[-3000:] if build.stdout else ""
        rows = conn.execute(f"select user_login from marts.{MODEL} order by 1").fetchall()
    assert rows == [("bob",), ("bob",)]
