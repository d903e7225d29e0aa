"""The unit of idempotency: one UTC hour of chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import dagster as dg

from twitch_warehouse.settings import get_settings

hourly_partitions = dg.HourlyPartitionsDefinition(
    start_date=get_settings().partition_start, timezone="UTC"
)

# A backfill of many hours runs as one run: per-run overhead is seconds, per hour milliseconds.
single_run_backfill = dg.BackfillPolicy.single_run()
# A Dagster run records a planned event per asset and partition: fine for days, far too slow
# for a sparse multi-year import (60k hourly partitions x 16 assets). Longer ranges are cut.
MAX_DAGSTER_RANGE = timedelta(days=7)


def hours_in(window: dg.TimeWindow) -> Iterator[tuple[datetime, datetime]]:
    """The hourly half-open windows inside a (possibly multi-hour) partition range."""
    start = window.start
    while start < window.end:
        yield start, start + timedelta(hours=1)
        start += timedelta(hours=1)


def has_partition(hour: datetime) -> bool:
    """Whether the hour has a Dagster partition: chat before `PARTITION_START` has none and is
    built by the bulk pass only."""
    return hour >= hourly_partitions.start


def partition_key(hour: datetime) -> str:
    return hourly_partitions.get_partition_key_for_timestamp(hour.timestamp())


def range_tags(start: datetime, end: datetime) -> dict[str, str]:
    """Run tags that make one run of [start, end) (whole hours), as a single-run backfill."""
    return {
        "dagster/asset_partition_range_start": partition_key(start),
        "dagster/asset_partition_range_end": partition_key(end - timedelta(hours=1)),
    }


def contiguous_ranges(
    hours: list[tuple[datetime, datetime]], max_span: timedelta
) -> list[tuple[datetime, datetime, datetime]]:
    """(start, end, latest mark) of runs of consecutive hours, at most `max_span` each, from
    (hour, mark) pairs sorted by hour: a catalog that covers a channel's year of history reruns
    as a few long runs, not thousands of one-hour runs."""
    out: list[tuple[datetime, datetime, datetime]] = []
    for hour, mark in hours:
        end = hour + timedelta(hours=1)
        if out and out[-1][1] == hour and end - out[-1][0] <= max_span:
            out[-1] = (out[-1][0], end, max(out[-1][2], mark))
        else:
            out.append((hour, end, mark))
    return out
