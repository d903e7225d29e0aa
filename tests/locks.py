"""Waiting, in a test, until a session is blocked on one of the warehouse's advisory locks."""

from __future__ import annotations

import threading
import time

import psycopg

from twitch_warehouse.db import PgUrl

WAITING_FOR_ADVISORY_LOCKS = (
    "select count(*) from pg_locks where locktype = 'advisory' and not granted"
    " and database = (select oid from pg_database where datname = current_database())"
)


def wait_until_blocked(url: PgUrl, worker: threading.Thread, timeout: float = 120.0) -> None:
    """Return once a session of this database waits for an advisory lock. A worker that ends
    first did not wait: that fails, as does no wait within `timeout` (a proof of blocking that
    does not depend on how fast the machine is)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url.libpq(), autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(WAITING_FOR_ADVISORY_LOCKS).fetchone()
            if row and row[0]:
                return
            if not worker.is_alive():
                raise AssertionError("the worker finished without waiting for the lock")
            time.sleep(0.05)
    raise AssertionError(f"no session waited for an advisory lock within {timeout:.0f} s")
