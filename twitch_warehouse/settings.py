"""The one settings object, read from the environment or `.env`.

Secrets (database passwords, Twitch client secret, tokens, the pseudonymization key) are only
ever read from the environment or `.env` (git-ignored, in the current directory) and are typed
as `SecretStr` so they never print.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where the project keeps everything it generates (embedded PostgreSQL, landing files, site).
    warehouse_home: Path = Field(default=PROJECT_ROOT / ".warehouse", alias="WAREHOUSE_HOME")
    # Real chat used by tests, evaluations and benchmarks; never copied into the repository.
    chat_data_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data", alias="CHAT_DATA_DIR"
    )

    # An external PostgreSQL; when unset the embedded server under warehouse_home is used.
    database_url: SecretStr | None = Field(default=None, alias="DATABASE_URL")
    dagster_database_url: SecretStr | None = Field(default=None, alias="DAGSTER_DATABASE_URL")

    # First hour that exists as a Dagster partition (UTC).
    partition_start: str = Field(default="2019-01-01-00:00", alias="PARTITION_START")
    # Share of rejected lines above which a partition's blocking check fails.
    max_reject_ratio: float = Field(default=0.01, alias="MAX_REJECT_RATIO")

    # Report site.
    publish_dir: Path | None = Field(default=None, alias="REPORT_PUBLISH_DIR")
    publish_keep_days: int = Field(default=7, alias="REPORT_KEEP_DAYS")
    # Each channel's latest N streams get a page of their own; older ones are listed only.
    report_stream_pages: int = Field(default=10, ge=0, alias="REPORT_STREAM_PAGES")
    show_chatter_logins: bool = Field(default=False, alias="REPORT_SHOW_CHATTER_LOGINS")
    # Unset: the installation's own random key (`pseudonym_secret`), never a published default.
    pseudonym_key: SecretStr | None = Field(default=None, alias="PSEUDONYM_KEY")

    # Twitch API credentials (only needed for live Helix/EventSub sources).
    twitch_client_id: str | None = Field(default=None, alias="TWITCH_CLIENT_ID")
    twitch_client_secret: SecretStr | None = Field(default=None, alias="TWITCH_CLIENT_SECRET")
    # API endpoints, unset: the public ones. Set to route through a proxy or mirror (the tests
    # point them at loopback servers).
    twitch_helix_url: str | None = Field(default=None, alias="TWITCH_HELIX_URL")
    twitch_auth_url: str | None = Field(default=None, alias="TWITCH_AUTH_URL")
    bttv_api_url: str | None = Field(default=None, alias="BTTV_API_URL")
    ffz_api_url: str | None = Field(default=None, alias="FFZ_API_URL")
    seventv_api_url: str | None = Field(default=None, alias="SEVENTV_API_URL")

    @property
    def pgdata_dir(self) -> Path:
        return self.warehouse_home / "pgdata"

    @property
    def landing_dir(self) -> Path:
        return self.warehouse_home / "landing"

    @property
    def site_dir(self) -> Path:
        return self.warehouse_home / "site"

    @property
    def report_publish_dir(self) -> Path:
        return self.publish_dir or self.warehouse_home / "published"

    @property
    def dagster_home(self) -> Path:
        return self.warehouse_home / "dagster_home"

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    def pseudonym_secret(self) -> str:
        """The key of published pseudonyms: PSEUDONYM_KEY, else a random key made once for this
        installation (`pseudonym.key` in the warehouse home, readable by its owner only). A
        known key would let anyone reverse pseudonyms by hashing candidate logins."""
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value()
        path = self.warehouse_home / "pseudonym.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".pseudonym.key.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
            try:
                os.link(draft, path)  # whole or not at all; the first process to link wins
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
