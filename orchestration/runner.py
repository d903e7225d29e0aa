"""Run the pipeline through the Dagster instance, as the schedule and a backfill would.

A range of hours runs as ONE run (single-run backfill), recorded in the instance's PostgreSQL
storage, so it shows in the UI like any scheduled run.
"""

from __future__ import annotations

from datetime import datetime

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
