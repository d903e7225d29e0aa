"""Process environment for Dagster and dbt: DAGSTER_HOME, the storage URL, the database."""

from __future__ import annotations

import os
import shutil

from twitch_warehouse.db import dagster_url, warehouse_url
from twitch_warehouse.settings import PROJECT_ROOT, Settings, get_settings


def prepare_environment(settings: Settings | None = None) -> dict[str, str]:
    """Start the database if embedded, create Dagster's home, and export what children need."""
    settings = settings or get_settings()
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_url(settings).sqlalchemy("psycopg2"),
        **warehouse_url(settings).dbt_env(),
    }
    os.environ.update(env)
    return env
