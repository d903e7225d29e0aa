"""Test setup: a real PostgreSQL per test worker, a fresh database and home per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgUrl]:
    """An embedded PostgreSQL for this test worker, stopped at the end of the session."""
    from twitch_warehouse.db import start_embedded

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    server = start_embedded(pgdata, cleanup_mode="stop")
    yield PgUrl(server.get_uri())
    server.cleanup()


@pytest.fixture
def database(pg_server: PgUrl) -> Iterator[PgUrl]:
    """A fresh, empty database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.libpq(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield pg_server.with_database(name)
    with psycopg.connect(pg_server.libpq(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _point_settings_at(database: PgUrl, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", database.url)
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    for key, value in database.dbt_env().items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


@pytest.fixture
def warehouse_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary warehouse home for code that needs no database."""
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def warehouse_env(
    database: PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PgUrl]:
    """Point the settings at the test database and a temporary warehouse home."""
    _point_settings_at(database, tmp_path / "home", monkeypatch)
    yield database
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def module_warehouse_env(
    pg_server: PgUrl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgUrl]:
    """Like `warehouse_env`, shared by the tests of one module (for expensive pipelines)."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.libpq(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    database = pg_server.with_database(name)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _point_settings_at(database, tmp_path_factory.mktemp("home"), monkeypatch)
        yield database
    get_settings.cache_clear()


@pytest.fixture
def migrated(warehouse_env: PgUrl) -> PgUrl:
    from ingestion.migrations import upgrade

    upgrade(warehouse_env.sqlalchemy())
    return warehouse_env


# Without the background-networking flags Chromium keeps trying to reach Google hosts.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return None
