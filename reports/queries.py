"""Run the report's SQL files (one query per file, over `marts` only) into DataFrames.

Two guards keep the report on the marts: `load_sql` rejects a file that names another schema,
and the build runs its queries as `warehouse_reporter` (migration 0003), a role PostgreSQL lets
read `marts` and nothing else.

The one documented exception is `load_optouts`: the opt-out list (`raw.chatter_optouts`) is
privacy configuration, not report data. It is one fixed query, read with the session's own
privileges *before* the connection drops to `warehouse_reporter`, and only used to hide chatters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

QUERY_DIR = Path(__file__).resolve().parent / "queries"
REPORTER_ROLE = "warehouse_reporter"
# Opted-out logins, and any other login the marts hold for their user ids (a renamed account).
OPTOUTS_SQL = """
select lower(user_login) from raw.chatter_optouts
union
select lower(chatters.user_login)
from marts.dim_chatters as chatters
inner join raw.chatter_optouts as optouts on chatters.user_id = any(optouts.user_ids)
"""
_FROM_SCHEMA = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\s*\.", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


class ReportQueryError(RuntimeError):
    """A report query failed; the site build fails with the query's name."""


def load_sql(name: str) -> str:
    path = QUERY_DIR / f"{name}.sql"
    if not path.is_file():
        raise ReportQueryError(f"no query file {path}")
    sql = path.read_text()
    schemas = set(_FROM_SCHEMA.findall(_COMMENT.sub(" ", sql)))
    if {s.lower() for s in schemas} - {"marts"}:
        raise ReportQueryError(f"{name}.sql reads {sorted(schemas)}; reports read marts only")
    return sql


def run_query(
    conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    sql = load_sql(name)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params or {})  # type: ignore[arg-type]
            columns = [d.name for d in cur.description or []]
            df = pd.DataFrame(cur.fetchall(), columns=columns)
    except psycopg.Error as exc:
        raise ReportQueryError(f"query {name}.sql failed: {exc}") from exc
    # sum()/avg() over integers come back as numeric -> Decimal; the charts want floats.
    for column in df.columns:
        values = df[column].dropna()
        if len(values) and isinstance(values.iloc[0], Decimal):
            df[column] = df[column].astype(float)
    return df


def load_optouts(conn: psycopg.Connection) -> frozenset[str]:
    """Logins that asked not to appear. A missing table fails the build: no silent exposure."""
    try:
        with conn.cursor() as cur:
            cur.execute(OPTOUTS_SQL)
            return frozenset(row[0] for row in cur.fetchall())
    except psycopg.Error as exc:
        raise ReportQueryError(f"cannot read the opt-out list (migration 0003?): {exc}") from exc


@contextmanager
def reporter_role(conn: psycopg.Connection) -> Iterator[None]:
    """Run the block as `warehouse_reporter`, so PostgreSQL itself limits the report to marts.

    dbt recreates mart tables; the default privileges of migration 0003 cover tables created by
    the migrating user, so a grant is only issued here if a table slipped through (created by
    another user), and only when this session may grant it.
    """
    try:
        missing = conn.execute(
            "select count(*) from pg_tables where schemaname = 'marts' and not"
            " has_table_privilege(%s, format('%%I.%%I', schemaname, tablename), 'select')",
            (REPORTER_ROLE,),
        ).fetchone()
        if missing and missing[0]:
            conn.execute(f"grant select on all tables in schema marts to {REPORTER_ROLE}")
            conn.commit()  # kept even though the read transaction below is rolled back
        conn.execute(f"set role {REPORTER_ROLE}")
        # Timestamps arrive in UTC whatever the server's or the caller's time zone; rolled back
        # with the read transaction.
        conn.execute("set local time zone 'UTC'")
    except psycopg.Error as exc:
        raise ReportQueryError(f"cannot switch to role {REPORTER_ROLE}: {exc}") from exc
    try:
        yield
    finally:
        if not conn.closed:
            conn.rollback()  # the build only reads; this also ends a failed transaction
            conn.execute("reset role")
            conn.commit()
