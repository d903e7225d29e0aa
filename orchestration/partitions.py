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


def hours_in(window: dg.TimeWindow) -> Iterator[tuple[datetime, datetime]]:
    """The hourly half-open windows inside a (possibly multi-hour) partition range."""
    start = window.start
    while start < window.end:
        yield start, start + timedelta(hours=1)
        start += timedelta(hours=1)
