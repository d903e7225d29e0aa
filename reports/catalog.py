"""The data catalog: dbt's docs site (`dbt docs generate --static`), copied beside the report.

dbt runs with the `DBT_PG*` environment the orchestration exports
(`WarehouseResource.export_dbt_env()`), into its own target folder so it never races the
Dagster runs that share `dbt_project/target`. Any failure raises: the site is not published
with a missing or stale catalog.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from twitch_warehouse.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class CatalogError(RuntimeError):
    """dbt docs could not be generated; the build fails."""


def generate_catalog(target: Path, *, database: str) -> None:
    """Write dbt's single-file docs site to `target` for the warehouse `database`."""
    dbt = Path(sys.executable).with_name("dbt")
    if not dbt.exists():
        raise CatalogError(f"dbt is not installed next to {sys.executable}")
    env_db = os.environ.get("DBT_PGDATABASE")
    if env_db != database:
        # Without this the catalog could silently describe another database (dbt's default).
        raise CatalogError(
            f"DBT_PGDATABASE is {env_db!r} but the report reads {database!r};"
            " call WarehouseResource.export_dbt_env() first"
        )
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as tmp:
        # Seed dbt's parse cache from the project's last run (dbt discards it if stale).
        cache = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
        if cache.is_file():
            (Path(tmp) / "target").mkdir()
            shutil.copy(cache, Path(tmp) / "target" / cache.name)
        args = [
            str(dbt),
            "docs",
            "generate",
            "--static",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(Path(tmp) / "target"),
            "--log-path",
            str(Path(tmp) / "logs"),
        ]
        done = subprocess.run(
            args, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False
        )
        page = Path(tmp) / "target" / "static_index.html"
        if done.returncode != 0 or not page.is_file():
            detail = (done.stdout + done.stderr).strip()[-2000:]
            raise CatalogError(f"dbt docs generate failed ({done.returncode}): {detail}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, target)
