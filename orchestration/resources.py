"""Resources, from the environment: the warehouse connection, the Twitch API credentials and
endpoint, and the emote APIs' endpoints."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import dagster as dg
import psycopg
from pydantic import SecretStr

from ingestion.clients.emotes import BTTV_BASE, FFZ_BASE, SEVENTV_BASE, EmoteCatalogClient
from ingestion.clients.helix import AUTH_BASE, HELIX_BASE, HelixClient, TokenManager
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


class TwitchApiResource(dg.ConfigurableResource):
    """Twitch app credentials for Helix, and where Helix and its token endpoint are; without
    credentials the Helix assets fetch nothing."""

    client_id: str | None = None
    client_secret: str | None = None
    helix_url: str = HELIX_BASE
    auth_url: str = AUTH_BASE

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def helix(self) -> HelixClient:
        """A Helix client with app access tokens for these credentials (`TwitchAuthError`
        without them)."""
        for url in (self.auth_url, self.helix_url):
            _require_https(url)
        tokens = TokenManager.from_credentials(
            self.client_id, self.client_secret, auth_base=self.auth_url
        )
        return HelixClient(tokens, base_url=self.helix_url)


class EmoteApisResource(dg.ConfigurableResource):
    """Where the BTTV, FFZ and 7TV emote APIs are (public, no credentials)."""

    bttv_url: str = BTTV_BASE
    ffz_url: str = FFZ_BASE
    seventv_url: str = SEVENTV_BASE

    def client(self) -> EmoteCatalogClient:
        return EmoteCatalogClient(
            bttv_base=self.bttv_url, ffz_base=self.ffz_url, seventv_base=self.seventv_url
        )


def _require_https(url: str) -> None:
    """The client secret and tokens travel to these endpoints: https, or a loopback server."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValueError(f"API endpoint {parts.hostname}: credentials belong in TWITCH_CLIENT_*,"
                         " not in the URL")  # fmt: skip
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"API endpoint {url}: https is required (plain http only on loopback)")


def _set(**urls: str | None) -> dict[str, str]:
    """The endpoints a deployment set; the others keep the resources' public defaults."""
    return {name: url for name, url in urls.items() if url}


def emote_apis_resource() -> EmoteApisResource:
    settings = get_settings()
    return EmoteApisResource(**_set(bttv_url=settings.bttv_api_url, ffz_url=settings.ffz_api_url,
                                    seventv_url=settings.seventv_api_url))  # fmt: skip


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
    urls = _set(helix_url=settings.twitch_helix_url, auth_url=settings.twitch_auth_url)
    if all(os.environ.get(name) for name in from_settings):
        secrets = {"client_id": dg.EnvVar("TWITCH_CLIENT_ID"),
                   "client_secret": dg.EnvVar("TWITCH_CLIENT_SECRET")}  # fmt: skip
        return TwitchApiResource(**secrets, **urls)
    return TwitchApiResource(**urls)
