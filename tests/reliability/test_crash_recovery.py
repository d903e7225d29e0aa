"""PostgreSQL killed (SIGKILL, no shutdown) in the middle of a partition load and of a dbt run.

Figures: every kill lands mid-COPY (the loader is paused between two landing files while the
first file's rows are already on the server); after the restart the window holds exactly its
previous rows (or nothing, for a first load), never part of the new ones; the retry equals a
clean load. The dbt run killed mid-build is re-run and gives marts identical to a clean build.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.landing import HourlyWriter, LandingFile, files_for_window
from ingestion.load import load_partition
from ingestion.migrations import upgrade
from tests.dbt_cli import run_dbt, start_dbt
from tests.reliability.conftest import OwnServer, table_checksum
from twitch_warehouse.db import PgUrl

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reliability")]

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)
CHANNELS = ["alpha", "beta", "gamma", "delta"]
WINDOW_SQL = (
    "select channel, event_id, event_type, sent_at, user_login, body, emotes::text, raw_payload"
    " from raw.chat_events where sent_at >= %s and sent_at < %s order by channel, event_id"
)


def _land(root: Path, seed: int, rate: float) -> int:
    chat = ChatGenerator(CHANNELS, HOUR, 1, seed=seed, messages_per_minute=rate).generate()
    with HourlyWriter(root, "irc", batch_size=50_000) as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            writer.write(channel, sent_at, line)
    return chat.line_count


def _window(url: PgUrl) -> tuple[int, str]:
    with psycopg.connect(url.libpq()) as conn:
        return table_checksum(conn, WINDOW_SQL, (HOUR, NEXT))


def _with_fifo(files: list[LandingFile], tmp: Path, at: int) -> tuple[list[LandingFile], Path]:
    """The files with the one at `at` replaced by a named pipe holding the same lines.

    The loader parses inside its COPY, so when it opens the pipe it blocks there: the COPY is
    open and the rows of the files before are already streamed to the server.
    """
    original = files[at]
    fifo = tmp / f"fifo-{at}-{os.getpid()}-{threading.get_ident()}"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    swapped = [*files[:at], LandingFile(fifo, original.source, original.channel, original.hour)]
    return [*swapped, *files[at + 1 :]], fifo


def _wait_for_reader(fifo: Path) -> int:
    """Open the pipe for writing once the loader has opened it for reading (inside its COPY)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: the loader has not reached this file yet
            assert time.monotonic() < deadline, "the loader never opened the pipe"
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return fd


def _crashing_load(
    server: OwnServer, url: PgUrl, files: list[LandingFile], pause: int, tmp: Path
) -> str:
    """Run a load, SIGKILL the server mid-COPY, restart it; returns the loader's error."""
    feed, fifo = _with_fifo(files, tmp, pause)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(url.libpq()) as conn:
                load_partition(conn, HOUR, NEXT, feed)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    pipe = _wait_for_reader(fifo)  # the loader is blocked on this file, mid-COPY
    with psycopg.connect(url.libpq(), autocommit=True) as conn:
        copying = conn.execute(
            "select count(*) from pg_stat_activity where query ilike 'copy raw.chat_events%'"
            " and state = 'active'"
        ).fetchone()[0]  # type: ignore[index]
    assert copying == 1 and not errors, errors  # the COPY is in flight when the server dies
    server.kill()
    # The loader goes on and meets the dead server (or psycopg's COPY writer already did and
    # the loader gave up on the pipe: a broken pipe here).
    with contextlib.suppress(BrokenPipeError), os.fdopen(pipe, "wb") as fh:
        fh.write(files[pause].path.read_bytes())
    thread.join(60)
    fifo.unlink()
    server.restart()
    assert errors, "the load survived a killed server?"
    return type(errors[0]).__name__


def test_sigkill_mid_copy_leaves_the_previous_window_and_the_retry_equals_a_clean_load(
    own_server: OwnServer, tmp_path: Path
) -> None:
    old_root, new_root = tmp_path / "old", tmp_path / "new"
    _land(old_root, seed=1, rate=20)
    new_lines = _land(new_root, seed=2, rate=60)
    new_files = files_for_window(new_root, HOUR, NEXT)
    assert len(new_files) == len(CHANNELS) and new_lines > 12_000

    clean, crashy = own_server.create_database(), own_server.create_database()
    for url in (clean, crashy):
        upgrade(url.sqlalchemy())
    with psycopg.connect(clean.libpq()) as conn:
        clean_result = load_partition(conn, HOUR, NEXT, new_files)
    expected = _window(clean)
    assert expected[0] == clean_result.loaded > 12_000

    # 1. First load of an empty window, killed mid-COPY: the window stays empty.
    error = _crashing_load(own_server, crashy, new_files, 2, tmp_path)
    assert _window(crashy) == (0, _window_empty_digest())

    # 2. The window holds an older load; reloads killed at two points keep exactly it.
    with psycopg.connect(crashy.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(old_root, HOUR, NEXT))
    previous = _window(crashy)
    assert previous[0] > 0 and previous != expected
    for pause in (1, 3):
        _crashing_load(own_server, crashy, new_files, pause, tmp_path)
        assert _window(crashy) == previous  # never half: old rows, all of them, nothing new

    # 3. The retry (what Dagster's RETRY_POLICY does) equals the clean load, row for row.
    with psycopg.connect(crashy.libpq()) as conn:
        retry = load_partition(conn, HOUR, NEXT, new_files)
        loads = conn.execute(
            "select events from raw.partition_loads where partition_start = %s", (HOUR,)
        ).fetchone()[0]  # type: ignore[index]
    assert _window(crashy) == expected
    assert retry.loaded == clean_result.loaded == loads
    assert own_server.kills == 3
    print(
        f"\nFIGURE crash-mid-COPY: {own_server.kills} SIGKILLs mid-COPY (loader blocked on"
        f" landing file 2-4 of 4, {error}), "
        f"window after each = previous or empty, retry = clean load of {expected[0]} rows "
        f"(lost 0, duplicated 0)"
    )


def _window_empty_digest() -> str:
    import hashlib

    return hashlib.sha256(b"[]").hexdigest()


# ---------------------------------------------------------------------------------------------
# dbt killed mid-build
# ---------------------------------------------------------------------------------------------

DBT_VARS = json.dumps({"window_start": HOUR.isoformat(), "window_end": NEXT.isoformat()})
HOURLY = ["tag:raw_staging", "tag:hourly_intermediate", "tag:hourly_marts"]
# dbt unit tests use fixed fixture dates that a partition window's --vars would filter out;
# the models and their data tests are what the crash is about.
NO_UNIT = ["--exclude", "test_type:unit"]


def _schema_checksums(url: PgUrl, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url.libpq()) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1",
            (list(schemas),),
        ).fetchall()
        return {t: table_checksum(conn, f"select * from {t} order by 1, 2, 3") for (t,) in tables}


def test_dbt_killed_mid_run_then_rerun_equals_a_clean_build(
    own_server: OwnServer, tmp_path: Path
) -> None:
    _land(tmp_path / "landing", seed=3, rate=30)
    files = files_for_window(tmp_path / "landing", HOUR, NEXT)
    clean, crashy = own_server.create_database(), own_server.create_database()
    for url in (clean, crashy):
        upgrade(url.sqlalchemy())
        with psycopg.connect(url.libpq()) as conn:
            load_partition(conn, HOUR, NEXT, files)
    tmp = tmp_path / "dbt"
    run_dbt(clean, tmp, "build", "--select", *HOURLY, *NO_UNIT, "--vars", DBT_VARS, timeout=300)
    expected = _schema_checksums(clean, ("intermediate", "marts"))
    assert len(expected) >= 5 and all(n > 0 for n, _ in expected.values())

    # Kill the server as soon as dbt reports its first finished model: the run is mid-way.
    proc = start_dbt(crashy, tmp, "build", "--select", *HOURLY, *NO_UNIT, "--vars", DBT_VARS)
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if " OK created " in line or "[OK" in line or "[SUCCESS" in line:
            own_server.kill()
            break
    rest, _ = proc.communicate(timeout=300)
    output = "".join(seen) + rest
    assert proc.returncode != 0, output[-3000:]  # the run really failed
    own_server.restart()
    half = _schema_checksums(crashy, ("intermediate", "marts"))
    assert half != expected  # something was left unbuilt by the crash

    # The retry (re-running the op, as RETRY_POLICY does) gives the clean marts.
    run_dbt(crashy, tmp, "build", "--select", *HOURLY, *NO_UNIT, "--vars", DBT_VARS, timeout=300)
    assert _schema_checksums(crashy, ("intermediate", "marts")) == expected
    print(
        f"\nFIGURE dbt-crash: dbt build SIGKILLed server after the first model, exit "
        f"{proc.returncode}; re-run = clean build on {len(expected)} tables "
        f"({sum(n for n, _ in expected.values())} rows)"
    )
