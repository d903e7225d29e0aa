"""One small warehouse for all report tests: the marts' tables, hand-written rows, one catalog.

The mart tables are created from the marts' enforced dbt contracts (`_models.yml`: the same
columns and types `dbt build` creates) instead of running dbt over empty sources, which takes
20 s. Session-scoped (the tests share one xdist worker via the `reports` group); the real
`dbt docs generate` for the catalog runs once here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

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
        return self.url.dbt_env()

    def settings(self, **overrides: Any) -> Settings:
        values = {
            "WAREHOUSE_HOME": str(self.home),
            "DATABASE_URL": self.url.url,
            "PSEUDONYM_KEY": KEY,
            **overrides,
        }
        return Settings(**values)  # type: ignore[arg-type]


def create_mart_tables(conn: psycopg.Connection) -> None:
    """Every mart as its contract defines it, created by the session user like dbt does."""
    spec = yaml.safe_load((DBT_DIR / "models" / "marts" / "_models.yml").read_text())
    conn.execute("create schema if not exists marts")
    for model in spec["models"]:
        columns = ", ".join(f"{c['name']} {c['data_type']}" for c in model["columns"])
        conn.execute(f"create table marts.{model['name']} ({columns})")
    conn.commit()


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
    env = url.dbt_env()
    with psycopg.connect(url.libpq()) as conn:
        create_mart_tables(conn)
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
