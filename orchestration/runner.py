"""Run the pipeline through the Dagster instance, as the schedule and a backfill would.

A range of hours runs as ONE run (single-run backfill), recorded in the instance's PostgreSQL
storage, so it shows in the UI like any scheduled run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from orchestration.partitions import hourly_partitions


def _key(hour: datetime) -> str:
    return hourly_partitions.get_partition_key_for_timestamp(hour.timestamp())


def run_hours(
    start: datetime, end: datetime, *, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize every hourly asset for [start, end) in one run."""
    from orchestration.definitions import defs

    last_hour = datetime.fromtimestamp(end.timestamp() - 3600, tz=start.tzinfo)
    job = defs().resolve_job_def("hourly_chat")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(),
        tags={
            "dagster/asset_partition_range_start": _key(start),
            "dagster/asset_partition_range_end": _key(last_hour),
        },
        raise_on_error=True,
    )


def run_catalogs(*, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Load landed emote catalog snapshots (and Helix metadata when configured)."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("emote_catalogs")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(), raise_on_error=True
    )


def run_daily(*, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Rebuild the dimensions and build and publish the report site."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("daily_report")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(), raise_on_error=True
    )


def run_stale_neighbours(
    *, bulk: bool = False, instance: dg.DagsterInstance | None = None
) -> list[datetime]:
    """Run again each hour a load changed outside its window, as the sensor would; returns them.

    `bulk`: through `run_hours_bulk` instead of Dagster runs (as the import that caused it).
    """
    from ingestion.load import stale_neighbour_hours
    from twitch_warehouse.db import connect, warehouse_url
    from twitch_warehouse.settings import get_settings

    url = warehouse_url(get_settings())
    done: list[datetime] = []
    # A rerun keeps what it loads (the better copy is already elsewhere): one pass settles it,
    # the second only confirms.
    for _ in range(2):
        with connect(url) as conn:
            stale = [hour for hour, _ in stale_neighbour_hours(conn)]
        for hour in stale:
            if bulk:
                run_hours_bulk(hour, hour + timedelta(hours=1))
            else:
                run_hours(hour, hour + timedelta(hours=1), instance=instance)
        done += stale
    return done


# A Dagster run records a planned event per asset and partition: fine for days, far too slow
# for a sparse multi-year import (60k hourly partitions x 16 assets).
MAX_DAGSTER_RANGE = timedelta(days=7)


def run_hours_bulk(start: datetime, end: datetime) -> None:
    """The hourly assets' own code over [start, end) in one pass, without per-partition runs.

    Same functions, same order, same window semantics as the `hourly_chat` job; used by imports
    of long, sparse history, where Dagster's per-partition bookkeeping would dominate.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    from ingestion.landing import files_for_window
    from ingestion.load import load_partition
    from ingestion.migrations import upgrade
    from ml import warehouse as ml_io
    from orchestration.dbt import DBT_PROJECT_DIR, window_vars
    from twitch_warehouse.db import connect, warehouse_url
    from twitch_warehouse.settings import get_settings

    settings = get_settings()
    url = warehouse_url(settings)
    upgrade(url.sqlalchemy())
    env = {**os.environ, **url.dbt_env()}
    window = dg.TimeWindow(start, end)

    def dbt(tag: str) -> None:
        subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--quiet", "--select",
             f"tag:{tag}", "--vars", window_vars(window), "--project-dir",
             str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True, env=env,
        )  # fmt: skip

    with connect(url) as conn:
        load_partition(conn, start, end, files_for_window(settings.landing_dir, start, end))
    dbt("raw_staging")
    with connect(url) as conn:
        ml_io.score_sentiment_window(conn, start, end)
        ml_io.score_toxicity_window(conn, start, end)
    dbt("hourly_intermediate")
    with connect(url) as conn:
        ml_io.detect_bursts_window(conn, start, end)
        ml_io.predict_hype_window(conn, start, end)
        ml_io.score_moderation_window(conn, start, end)
    dbt("hourly_marts")
