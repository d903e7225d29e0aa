"""Alembic environment: online migrations only, the URL comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.attributes["sqlalchemy_url"]

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    connection.execute(text("create schema if not exists raw"))
    # Two processes migrating at once (tests, a run and the UI) serialize on this lock.
    connection.execute(text("select pg_advisory_xact_lock(8317001)"))
    context.configure(connection=connection, version_table_schema="raw")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
engine.dispose()
