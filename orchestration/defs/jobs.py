"""Jobs, schedules and sensors: hourly chat through the hourly marts; daily stream models and
report; live streams; hours run again when their inputs changed or their landing files were
never loaded, changed or withdrawn."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from ingestion.landing import hour_floor
from ingestion.load import hours_landed_after_load, stale_hours
from orchestration.defs.dbt_models import (
    dbt_daily_intermediate,
    dbt_daily_marts,
    dbt_hourly_intermediate,
    dbt_hourly_marts,
    dbt_raw_staging,
)
from orchestration.partitions import (
    MAX_DAGSTER_RANGE,
    contiguous_ranges,
    has_partition,
    hourly_partitions,
    partition_key,
    range_tags,
)
from orchestration.policy import RETRY_POLICY
from orchestration.resources import TwitchApiResource, WarehouseResource
from twitch_warehouse.settings import get_settings

hourly_chat_job = dg.define_asset_job(
    "hourly_chat",
    selection=dg.AssetSelection.groups("raw")
    | dg.AssetSelection.assets(dbt_raw_staging, dbt_hourly_intermediate, dbt_hourly_marts)
    | dg.AssetSelection.tag("cadence", "hourly"),
    partitions_def=hourly_partitions,
    op_retry_policy=RETRY_POLICY,
    description="Load an hour of chat, build staging, score it and build the hourly marts.",
)

daily_report_job = dg.define_asset_job(
    "daily_report",
    selection=dg.AssetSelection.assets(dbt_daily_intermediate, dbt_daily_marts)
    | dg.AssetSelection.tag("cadence", "daily")
    | dg.AssetSelection.groups("reports"),
    op_retry_policy=RETRY_POLICY,
    description="Rebuild stream-level models, run the daily ML and publish the report site.",
)

catalogs_job = dg.define_asset_job(
    "emote_catalogs",
    selection=dg.AssetSelection.groups("catalogs"),
    op_retry_policy=RETRY_POLICY,
    description="Load the day's emote catalog snapshots and Helix metadata (streams, users,"
    " channel information, videos, badges).",
)

live_streams_job = dg.define_asset_job(
    "live_streams",
    selection=dg.AssetSelection.assets(["raw", "helix_streams"]),
    op_retry_policy=RETRY_POLICY,
    description="Record the tracked channels' live streams (title, game, start) from Helix.",
)

catalogs_schedule = dg.ScheduleDefinition(
    job=catalogs_job,
    cron_schedule="0 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# Closed hours are loaded five minutes after they end.
hourly_chat_schedule = dg.build_schedule_from_partitioned_job(
    hourly_chat_job, minute_of_hour=5, default_status=dg.DefaultScheduleStatus.RUNNING
)

daily_report_schedule = dg.ScheduleDefinition(
    job=daily_report_job,
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.sensor(
    job=hourly_chat_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs built hours again whose inputs changed without a load of theirs: one of"
    " the 7 hours before them changed, a neighbouring hour's load dropped a worse copy of one of"
    " their events, an emote catalog snapshot now covers them, or the history their week's hype or"
    " moderation model was fitted on changed. Consecutive hours run together, up to a week per"
    " run.",
)
def stale_hours_sensor(warehouse: WarehouseResource) -> Iterator[dg.RunRequest | dg.SkipReason]:
    with warehouse.connect() as conn:
        # Hours before the partitions' start have no partition: imports rerun them in bulk.
        stale = [(hour, mark) for hour, mark in stale_hours(conn) if has_partition(hour)]
    if not stale:
        yield dg.SkipReason("no built hour has changed inputs")
    for start, end, latest in contiguous_ranges(stale, MAX_DAGSTER_RANGE):
        tags = range_tags(start, end)
        # One run per change: a failed run is not retried until an hour of it changes again.
        run_key = (f"{tags['dagster/asset_partition_range_start']}.."
                   f"{tags['dagster/asset_partition_range_end']}@{latest.isoformat()}")  # fmt: skip
        yield dg.RunRequest(run_key=run_key, tags={**tags, "trigger": "stale_hours"})


LIVE_STREAMS_EVERY_S = 600


@dg.sensor(
    job=live_streams_job,
    minimum_interval_seconds=LIVE_STREAMS_EVERY_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 10 minutes, when Twitch credentials are set: which tracked channels are"
    " live, so stream sessions of chat get their Helix title, game and start.",
)
def live_streams_sensor(twitch: TwitchApiResource) -> Iterator[dg.RunRequest | dg.SkipReason]:
    if not twitch.configured:
        yield dg.SkipReason("no TWITCH_CLIENT_ID/SECRET: live streams are not fetched")
        return
    yield dg.RunRequest(run_key=f"live-streams-{int(time.time()) // LIVE_STREAMS_EVERY_S}")


# The schedule loads an hour at :05; the sensor leaves it that long and more before it steps in.
LANDED_SETTLE = timedelta(minutes=30)
LANDED_LOOKBACK = timedelta(days=2)


@dg.sensor(
    job=hourly_chat_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs closed hours of the last two days whose landing files were never loaded,"
    " changed after their load or withdrawn: hours the schedule missed while the daemon was down"
    " (it catches up only a few ticks), files landed late and files deleted.",
)
def landed_hours_sensor(warehouse: WarehouseResource) -> Iterator[dg.RunRequest | dg.SkipReason]:
    end = hour_floor(datetime.now(UTC) - LANDED_SETTLE)
    with warehouse.connect() as conn:
        pending = hours_landed_after_load(
            conn, get_settings().landing_dir, end - LANDED_LOOKBACK, end
        )
    if not pending:
        yield dg.SkipReason("every landed hour of the last two days is loaded")
    for hour, newest in pending:
        key = partition_key(hour)
        yield dg.RunRequest(partition_key=key, run_key=f"{key}@landed-{newest:.0f}",
                            tags={"trigger": "landed_after_load"})  # fmt: skip
