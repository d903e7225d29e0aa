"""Real dbt runs from tests: the project's dbt, this test's database and its own target folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from twitch_warehouse.db import PgUrl

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def start_dbt(url: PgUrl, tmp: Path, *args: str) -> subprocess.Popen[str]:
    """`dbt ARGS` against `url`, started; output (stdout and stderr) on `.stdout`."""
    # Seed dbt's parse cache from the project's last run (dbt discards it when stale).
    cache = DBT_DIR / "target" / "partial_parse.msgpack"
    if cache.is_file() and not (tmp / "target" / cache.name).exists():
        (tmp / "target").mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, tmp / "target" / cache.name)
    cmd = [str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(DBT_DIR),
           "--profiles-dir", str(DBT_DIR), "--target-path", str(tmp / "target"),
           "--log-path", str(tmp / "logs")]  # fmt: skip
    env = {**os.environ, **url.dbt_env()}
    return subprocess.Popen(cmd, env=env, cwd=DBT_DIR, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def run_dbt(url: PgUrl, tmp: Path, *args: str, timeout: float = 600) -> str:
    """`dbt ARGS` against `url`, run to the end; fails the test unless dbt succeeded."""
    proc = start_dbt(url, tmp, *args)
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out
