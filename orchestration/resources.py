"""Resources: the warehouse connection and the Twitch API credentials, from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dagster as dg
import psycopg
from pydantic import SecretStr

from twitch_warehouse.db import PgUrl, warehouse_url
from twitch_warehouse.settings import Settings, get_settings

if TYPE_CHECKING:
    from ingestion.clients.helix import TokenManager


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


class TwitchApiResource(dg.ConfigurableResource):
    """Twitch app credentials for Helix; without them the Helix assets fetch nothing."""

    client_id: str | None = None
    client_secret: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def token_manager(self, **kwargs: Any) -> TokenManager:
        """App access tokens for these credentials (`kwargs`: `TokenManager` options)."""
        from ingestion.clients.helix import TokenManager

        return TokenManager.from_credentials(self.client_id, self.client_secret, **kwargs)


def twitch_api_resource() -> TwitchApiResource:
    # Secrets only through dg.EnvVar. Values from `.env` (read by the settings) are exported to
    # this process's environment first, so both ways of configuring keep working.
    settings = get_settings()
    secret = settings.twitch_client_secret
    from_settings = {
        "TWITCH_CLIENT_ID": settings.twitch_client_id,
        "TWITCH_CLIENT_SECRET": secret.get_secret_value() if secret else None,
    }
    for name, value in from_settings.items():
        if value and not os.environ.get(name):
            os.environ[name] = value
    if all(os.environ.get(name) for name in from_settings):
        return TwitchApiResource(
            client_id=dg.EnvVar("TWITCH_CLIENT_ID"), client_secret=dg.EnvVar("TWITCH_CLIENT_SECRET")
        )
    return TwitchApiResource()
