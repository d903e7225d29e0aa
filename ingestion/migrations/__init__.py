"""Versioned migrations (Alembic) of the `raw` and `ml` schemas, run with `upgrade()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(sqlalchemy_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.attributes["sqlalchemy_url"] = sqlalchemy_url
    return cfg


def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    """Bring the warehouse's raw schemas to `revision`; a no-op when already there."""
    command.upgrade(alembic_config(sqlalchemy_url), revision)
