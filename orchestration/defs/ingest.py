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
        preview = conn.execute(
            "select channel, event_type, sent_at::text, left(coalesce(body, ''), 60)"
            " from raw.chat_events where sent_at >= %s and sent_at < %s order by sent_at limit 5",
            (window.start, window.end),
        ).fetchall()
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
            "rejects": result.rejects,
            "reject_ratio": dg.MetadataValue.float(ratio),
            "events_by_type": dg.MetadataValue.json(result.events_by_type),
            "rejects_by_reason": dg.MetadataValue.json(dict(result.rejects_by_reason)),
            "seconds": dg.MetadataValue.float(round(seconds, 3)),
            "rows_per_second": dg.MetadataValue.float(round(result.loaded / seconds, 1)),
            "preview": dg.MetadataValue.md(
                "| channel | type | sent_at | body |\n|---|---|---|---|\n"
                + "\n".join(
                    f"| {c} | {t} | {s} | {' '.join(b.replace('|', ' ').split())} |"
                    for c, t, s, b in preview
                )
            ),
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
