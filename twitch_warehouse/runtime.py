"""Process environment for Dagster and dbt: DAGSTER_HOME, the storage URL, the database."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

from twitch_warehouse.db import dagster_url, warehouse_url
from twitch_warehouse.logging import verbose
from twitch_warehouse.settings import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from rich.console import Console


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


@contextlib.contextmanager
def pipeline_step(console: Console, message: str) -> Iterator[None]:
    """A spinner while Dagster runs a job. dbt writes every model and test it runs to stdout
    (a demo printed over 700 lines): that goes to `logs/pipeline.log` in the warehouse home
    instead, unless the command runs with `-v`. A failure names the log."""
    if verbose():
        with console.status(message):
            yield
        return
    log_path = get_settings().warehouse_home / "logs" / "pipeline.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pinned = console._file  # None: follow sys.stdout (a test runner swaps it)
    console.file = console.file  # the terminal, before stdout points at the log
    try:
        with console.status(message), open(log_path, "a") as log, contextlib.redirect_stdout(log):
            yield
    except BaseException:
        console.print(f"[red]{message.rstrip('…')} failed; dbt and Dagster output: {log_path}[/]")
        raise
    finally:
        console._file = pinned
