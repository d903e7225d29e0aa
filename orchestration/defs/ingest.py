"""Raw chat: every landing file of an hour parsed and loaded into its partition window."""

import time

import dagster as dg

from ingestion.landing import files_for_window
from ingestion.load import load_partition
from ingestion.migrations import upgrade
from orchestration.partitions import hourly_partitions, hours_in, single_run_backfill
from orchestration.resources import WarehouseResource
from twitch_warehouse.settings import get_settings

REJECT_CHECK = "reject_ratio_below_threshold"


@dg.asset(
    key=["raw", "chat_events"],
    group_name="raw",
    partitions_def=hourly_partitions,
    backfill_policy=single_run_backfill,
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    check_specs=[dg.AssetCheckSpec(REJECT_CHECK, asset=["raw", "chat_events"], blocking=True)],
    description="Chat events from every landing file of the hour, COPYed into raw.chat_events; "
    "each hour replaces its own window in one transaction. Rejects go to raw.quarantine.",
)
def raw_chat_events(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = get_settings()
    began = time.perf_counter()
    upgrade(warehouse.url().sqlalchemy())
    window = context.partition_time_window
    with warehouse.connect() as conn:
        # A range of hours (a backfill) is one window replaced in one transaction.
        files = files_for_window(settings.landing_dir, window.start, window.end)
        result = load_partition(conn, window.start, window.end, files)
        context.log.info(
            f"{window.start:%Y-%m-%d %H}:00..{window.end:%Y-%m-%d %H}:00 loaded {result.loaded}"
            f" events from {result.files} files, {result.rejects} rejected, {result.seconds:.2f}s"
        )
        # The check judges each hour: a backfill of many clean hours must not hide a bad one.
        worst = conn.execute(
            "select partition_start, rejects::float8 / (events + rejects) from raw.partition_loads"
            " where partition_start >= %s and partition_start < %s and events + rejects > 0"
            " order by 2 desc, 1 limit 1",
            (window.start, window.end),
        ).fetchone()
    ratio = result.reject_ratio
    worst_hour, worst_ratio = (worst[0].isoformat(), float(worst[1])) if worst else ("", 0.0)
    seconds = time.perf_counter() - began
    return dg.MaterializeResult(
        metadata={
            "hours": len(list(hours_in(window))),
            "landing_files": result.files,
            "rows_loaded": dg.MetadataValue.int(result.loaded),
            "duplicates_dropped": result.duplicates,
            # Hours beside the window that lost a worse copy of a message: the sensor reruns them.
            "neighbour_hours_changed": dg.MetadataValue.json(
                [hour.isoformat() for hour in result.neighbour_hours_changed]
            ),
            # Hours whose events differ from their last load: the built hours of the 7 after
            # them run again.
            "hours_changed": dg.MetadataValue.int(len(result.hours_changed)),
            "rejects": result.rejects,
            "opted_out_dropped": result.opted_out,
            "reject_ratio": dg.MetadataValue.float(ratio),
            "events_by_type": dg.MetadataValue.json(result.events_by_type),
            "rejects_by_reason": dg.MetadataValue.json(dict(result.rejects_by_reason)),
            "seconds": dg.MetadataValue.float(round(seconds, 3)),
            "rows_per_second": dg.MetadataValue.float(round(result.loaded / seconds, 1)),
            "preview": dg.MetadataValue.md(_channel_preview(result.events_by_channel)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=REJECT_CHECK,
                passed=worst_ratio <= settings.max_reject_ratio,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "worst_hour": worst_hour,
                    "worst_hour_reject_ratio": worst_ratio,
                    "reject_ratio": ratio,
                    "threshold": settings.max_reject_ratio,
                },
                description="Share of unparseable input lines, in the partition's worst hour.",
            )
        ],
    )


def _channel_preview(events_by_channel: dict[str, dict[str, int]], rows: int = 10) -> str:
    """The busiest channels' events by type. No message text: the event log is kept for good,
    out of reach of `twitch-warehouse forget`."""
    types = sorted({t for counts in events_by_channel.values() for t in counts})
    busiest = sorted(events_by_channel.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    lines = [
        "| channel | events | " + " | ".join(types) + " |",
        "|---|---:|" + "---:|" * len(types),
        *(
            f"| {channel} | {sum(counts.values()):,} | "
            + " | ".join(f"{counts.get(t, 0):,}" for t in types)
            + " |"
            for channel, counts in busiest[:rows]
        ),
    ]
    if len(busiest) > rows:
        lines.append(f"| ({len(busiest) - rows} more channels) | | " + "| " * len(types))
    return "\n".join(lines)
