"""One small warehouse for all report tests: dbt-created marts, hand-written rows, one catalog.

Session-scoped (the tests share it on one xdist worker via the `reports` group): dbt run and
dbt docs generate are the slow part, about 35 s together.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import PROJECT_ROOT, Settings

DBT_DIR = PROJECT_ROOT / "dbt_project"
KEY = "test-pseudonym-key"


@dataclass
class ReportWarehouse:
    url: PgUrl
    catalog: Path
    facts: dict[str, Any]
    home: Path

    def dbt_env(self) -> dict[str, str]:
        return {f"DBT_{k}": v for k, v in self.url.libpq_env().items()}

    def settings(self, **overrides: Any) -> Settings:
        values = {
            "WAREHOUSE_HOME": str(self.home),
            "DATABASE_URL": self.url.url,
            "PSEUDONYM_KEY": KEY,
            **overrides,
        }
        return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def report_warehouse(
    pg_server: PgUrl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReportWarehouse]:
    from ingestion.migrations import upgrade
    from reports.catalog import generate_catalog
    from tests.reports.marts_data import fill_marts

    name = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.libpq(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg_server.with_database(name)
    upgrade(url.sqlalchemy())
    work = tmp_path_factory.mktemp("report_wh")
    env = {f"DBT_{k}": v for k, v in url.libpq_env().items()}
    dbt = str(Path(sys.executable).with_name("dbt"))
    done = subprocess.run(
        [
            dbt,
            "run",
            "--quiet",
            "--threads",
            "4",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with psycopg.connect(url.libpq()) as conn:
        facts = fill_marts(conn)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        generate_catalog(work / "catalog.html", database=name)
    yield ReportWarehouse(url=url, catalog=work / "catalog.html", facts=facts, home=work / "home")
    with psycopg.connect(pg_server.libpq(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def built_site(report_warehouse: ReportWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built once, pseudonymized, for the content and browser tests."""
    from reports.build import build_site

    out = tmp_path_factory.mktemp("site") / "site"
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        build_site(
            conn, out, settings=report_warehouse.settings(), catalog=report_warehouse.catalog
        )
    return out
