"""Run the pipeline through the Dagster instance, as the schedule and a backfill would.

A range of hours runs as ONE run (single-run backfill), recorded in the instance's PostgreSQL
storage, so it shows in the UI like any scheduled run.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from orchestration.partitions import MAX_DAGSTER_RANGE, has_partition, range_tags

BULK_EVENTS_PER_BATCH = 1_000


def _run_config() -> dict:
    """Dagster's console shows every step event at DEBUG: a demo printed 1,600 lines. It follows
    the process's log level instead (`twitch-warehouse -v` for all of it); the run's events are
    stored in full either way, for the UI."""
    from twitch_warehouse.logging import verbose

    level = "DEBUG" if verbose() else "WARNING"
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def run_hours(
    start: datetime, end: datetime, *, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize every hourly asset for [start, end) in one run."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("hourly_chat")
    return job.execute_in_process(
        run_config=_run_config(), instance=instance or dg.DagsterInstance.get(),
        tags=range_tags(start, end), raise_on_error=True,
    )  # fmt: skip


def run_catalogs(*, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Load landed emote catalog snapshots (and Helix metadata when configured)."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("emote_catalogs")
    return job.execute_in_process(
        run_config=_run_config(),
        instance=instance or dg.DagsterInstance.get(),
        raise_on_error=True,
    )


def run_daily(*, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Rebuild the dimensions and build and publish the report site."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("daily_report")
    return job.execute_in_process(
        run_config=_run_config(),
        instance=instance or dg.DagsterInstance.get(),
        raise_on_error=True,
    )


def run_stale_hours(
    *, bulk: bool = False, instance: dg.DagsterInstance | None = None
) -> list[tuple[datetime, datetime]]:
    """Run again the built hours whose inputs changed, as the sensor would, consecutive hours
    together; returns the ranges run.

    `bulk`: through `run_hours_bulk` instead of Dagster runs (as the import that caused it).
    """
    from ingestion.load import stale_hours
    from orchestration.partitions import contiguous_ranges
    from twitch_warehouse.db import connect, warehouse_url
    from twitch_warehouse.settings import get_settings

    url = warehouse_url(get_settings())
    done: list[tuple[datetime, datetime]] = []
    # A rerun keeps what it loads (the better copy is already elsewhere): one pass settles it,
    # the second only confirms.
    for _ in range(2):
        with connect(url) as conn:
            ranges = contiguous_ranges(stale_hours(conn), MAX_DAGSTER_RANGE)
        for start, end, _ in ranges:
            if bulk or not has_partition(start):
                run_hours_bulk(start, end, instance=instance)
            else:
                run_hours(start, end, instance=instance)
            done.append((start, end))
    return done


def run_hours_bulk(
    start: datetime, end: datetime, *, instance: dg.DagsterInstance | None = None
) -> None:
    """The hourly assets' own code over [start, end) in one pass, without per-partition runs.

    Same functions, same order, same window semantics as the `hourly_chat` job; used by imports
    of long, sparse history, where Dagster's per-partition bookkeeping would dominate. The hours
    that held chat are then reported to the instance as built (`report_bulk_hours`).
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
        loaded = load_partition(
            conn, start, end, files_for_window(settings.landing_dir, start, end)
        )
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
    report_bulk_hours(
        sorted(loaded.files_per_hour), start, end, instance=instance or dg.DagsterInstance.get()
    )


def report_bulk_hours(
    hours: list[datetime], start: datetime, end: datetime, *, instance: dg.DagsterInstance
) -> int:
    """Record each hour a bulk pass loaded from landing files as a materialization of every
    `hourly_chat` asset, so the UI shows those partitions built, not Missing (and a "materialize
    missing" backfill does not redo them). Runless events: no Dagster run made them. The empty
    hours between are left out, which keeps a sparse multi-year import at one event per asset
    and hour of chat. Returns the events recorded."""
    import logging
    import time

    # Internal API: `report_runless_asset_event` writes one event at a time (~30 ms each on
    # PostgreSQL, minutes for a long import); the event log takes one batch per asset instead.
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    from orchestration.definitions import defs
    from orchestration.partitions import partition_key
    from twitch_warehouse.logging import get_logger

    began = time.perf_counter()
    keys = sorted(defs().resolve_job_def("hourly_chat").asset_layer.executable_asset_keys)
    partitions = [partition_key(hour) for hour in hours if has_partition(hour)]
    built_by = f"bulk pass over {start:%Y-%m-%d %H:00} → {end:%Y-%m-%d %H:00} UTC (no run)"

    def entry(key: dg.AssetKey, partition: str) -> EventLogEntry:
        materialization = dg.AssetMaterialization(
            asset_key=key, partition=partition, metadata={"built_by": built_by}
        )
        event = DagsterEvent(
            event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
            event_specific_data=StepMaterializationData(materialization),
            job_name=RUNLESS_JOB_NAME,
        )
        return EventLogEntry(
            user_message="", level=logging.INFO, job_name=RUNLESS_JOB_NAME,
            run_id=RUNLESS_RUN_ID, error_info=None, timestamp=time.time(), step_key=None,
            dagster_event=event,
        )  # fmt: skip

    # A batch updates its asset's latest materialization from its last event: one asset each.
    for key in keys:
        for first in range(0, len(partitions), BULK_EVENTS_PER_BATCH):
            chunk = partitions[first : first + BULK_EVENTS_PER_BATCH]
            instance.event_log_storage.store_event_batch([entry(key, p) for p in chunk])
    get_logger(__name__).info(
        "bulk hours reported", hours=len(partitions), assets=len(keys),
        seconds=round(time.perf_counter() - began, 1),
    )  # fmt: skip
    return len(partitions) * len(keys)
