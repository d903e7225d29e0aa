"""Resources: the warehouse connection and the dbt CLI, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
from pydantic import SecretStr

from twitch_warehouse.db import PgUrl, warehouse_url
from twitch_warehouse.settings import Settings, get_settings


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse PostgreSQL: `DATABASE_URL` when set, else the embedded server."""

    database_url: str | None = None

    def settings(self) -> Settings:
        base = get_settings()
        if self.database_url:
            return base.model_copy(update={"database_url": SecretStr(self.database_url)})
        return base

    def url(self) -> PgUrl:
        return warehouse_url(self.settings())

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.url().libpq()) as conn:
            yield conn

    def export_dbt_env(self) -> None:
        """dbt's profile reads DBT_PG* variables; the dbt subprocess inherits them."""
        os.environ.update(self.url().dbt_env())


def warehouse_resource() -> WarehouseResource:
    # Secrets only through dg.EnvVar, so the UI shows the variable name, never the value.
    if os.environ.get("DATABASE_URL"):
        return WarehouseResource(database_url=dg.EnvVar("DATABASE_URL"))
    return WarehouseResource()
