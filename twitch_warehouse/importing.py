"""`twitch-warehouse import`: land files as hourly partitions and run them through Dagster.

Unparseable records never reach the landing zone: they go to `raw.quarantine` (source `import`)
with the file, record number and reason. When their share passes the allowed ratio the import
refuses, removes what it landed, and says why, so a person can decide to accept a dirty file
with `--max-reject-ratio`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingestion.importer import FileReport, ImportReport, import_paths
from ingestion.load import OptOuts, read_optouts
from ingestion.migrations import upgrade
from twitch_warehouse.db import connect, warehouse_url
from twitch_warehouse.runtime import pipeline_step, prepare_environment
from twitch_warehouse.settings import get_settings


def _count_files(paths: list[Path]) -> int:
    return sum(1 if p.is_file() else sum(1 for f in p.rglob("*") if f.is_file()) for p in paths)


def _optouts() -> OptOuts:
    """The opt-out list, so an opted-out chatter's records are never landed."""
    url = warehouse_url()
    upgrade(url.sqlalchemy())
    with connect(url) as conn:
        return read_optouts(conn)


def quarantine_rejects(report: ImportReport) -> int:
    """Replace this import's quarantined records (per source file) with the current rejects."""
    url = warehouse_url()
    upgrade(url.sqlalchemy())
    stored = 0
    with connect(url) as conn, conn.transaction():
        for file in report.files:
            # Keyed by the resolved path: the same file named another way replaces its rows.
            name = str(file.path.resolve())
            conn.execute(
                "delete from raw.quarantine where source = 'import' and landing_file = %s",
                (name,),
            )
            hour = min(file.hours) if file.hours else datetime(1970, 1, 1, tzinfo=UTC)
            with conn.cursor().copy(
                "copy raw.quarantine (partition_start, source, landing_file, line_no, channel,"
                " payload, reason) from stdin"
            ) as copy:
                for reject in file.rejects:
                    copy.write_row((hour, "import", name, reject.line_no,
                                    reject.channel, reject.raw, reject.reason))  # fmt: skip
                    stored += 1
    return stored


def import_and_materialize(
    paths: list[Path], *, channel: str | None, start: datetime | None,
    max_reject_ratio: float | None, materialize: bool, console: Console,
) -> int:  # fmt: skip
    settings = get_settings()
    allowed = settings.max_reject_ratio if max_reject_ratio is None else max_reject_ratio
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Importing", total=_count_files(paths))

        def advance(file: FileReport) -> None:
            progress.update(task, advance=1, description=f"Importing {file.path.name}")

        report = import_paths(paths, settings.landing_dir, channel_hint=channel, start_hint=start,
                              progress=advance, optouts=_optouts(),
                              max_reject_ratio=allowed)  # fmt: skip
    _print_report(console, report)
    if report.errors:
        console.print(f"[red]{len(report.errors)} file(s) could not be imported (see above).[/]")
    stored = quarantine_rejects(report)
    if stored:
        console.print(f"{stored:,} rejected records quarantined in raw.quarantine with reasons.")
    # Each file is judged on its own, before it lands: a dirty file is refused, the clean ones
    # beside it land. What an earlier import accepted knowingly (a higher ratio) stays.
    refused = [file for file in report.files if file.refused]
    for file in refused:
        kept = (
            f"; an earlier import accepted it and its {len(file.landed_before):,} landing"
            " file(s) from then stay"
            if file.landed_before
            else ""
        )
        console.print(
            f"[red]Refused {file.path}:[/] {file.rejected:,} of {file.landed + file.rejected:,}"
            f" records ({file.reject_ratio:.1%}) could not be parsed, above the allowed"
            f" {allowed:.1%}; nothing of it was landed now{kept}. Its rejects are in"
            " raw.quarantine with their reasons. Re-run with --max-reject-ratio to accept it"
            " knowingly."
        )
    accepted = [file for file in report.files if file not in refused]
    hours: set[datetime] = set().union(*(file.hours for file in accepted))
    failed = 2 if refused else 1 if report.errors else 0
    if not hours:
        console.print("Nothing to load.")
        return failed
    first, last = min(hours), max(hours) + timedelta(hours=1)
    landed = sum(file.landed for file in accepted)
    plural = "" if len(hours) == 1 else "s"
    console.print(f"Landed {landed:,} records into {len(hours):,} hour{plural} "
                  f"({first:%Y-%m-%d %H}:00 → {last:%Y-%m-%d %H}:00 UTC).")  # fmt: skip
    if materialize:
        prepare_environment(settings)
        from orchestration.partitions import MAX_DAGSTER_RANGE, has_partition
        from orchestration.runner import (
            run_daily,
            run_hours,
            run_hours_bulk,
            run_stale_hours,
        )

        # Chat older than the hourly partitions has no Dagster partition to run in.
        bulk = last - first > MAX_DAGSTER_RANGE or not has_partition(first)
        if not bulk:
            with pipeline_step(console, "Dagster: hourly_chat over the imported range (one run)…"):
                run_hours(first, last)
        else:
            with pipeline_step(
                console, "Loading the whole range in one pass (the hourly assets' code)…"
            ):
                run_hours_bulk(first, last)
        with pipeline_step(
            console, "Hours beside the range whose copies of a message moved into it…"
        ):
            rerun = run_stale_hours(bulk=bulk)
        if rerun:
            console.print(f"Ran {len(rerun)} range(s) of neighbouring hours again: the import kept"
                          " a better copy of some of their messages.")  # fmt: skip
        with pipeline_step(console, "Dagster: daily_report…"):
            run_daily()
        console.print(
            f"[green]✓[/] warehouse updated; report at {settings.site_dir / 'index.html'}"
        )
    return failed


def _print_report(console: Console, report: ImportReport, *, max_files: int = 15) -> None:
    """One row per format, then the files that had rejects or could not be imported."""
    totals = Table(title="Import by format", show_edge=False)
    for column in ("format", "files", "landed", "rejected", "hours"):
        totals.add_column(column, justify="left" if column == "format" else "right")
    by_format: dict[str, list[FileReport]] = {}
    for file in report.files:
        by_format.setdefault(file.format or "unknown", []).append(file)
    for fmt, files in sorted(by_format.items()):
        hours = set().union(*(f.hours for f in files))
        totals.add_row(fmt, f"{len(files):,}", f"{sum(f.landed for f in files):,}",
                       f"{sum(f.rejected for f in files):,}", f"{len(hours):,}")  # fmt: skip
    console.print(totals)
    if opted_out := sum(f.opted_out for f in report.files):
        console.print(f"{opted_out:,} records of opted-out chatters were not landed.")
    troubled = [f for f in report.files if f.rejected or f.error]
    if troubled:
        table = Table(title="Files with rejects or errors", show_edge=False)
        for column in ("file", "rejected", "reasons"):
            table.add_column(column)
        for file in troubled[:max_files]:
            reasons = ", ".join(f"{r} ({n})" for r, n in file.reject_reasons.most_common(3))
            table.add_row(str(file.path), f"{file.rejected:,}", file.error or reasons)
        console.print(table)
        if len(troubled) > max_files:
            console.print(f"… and {len(troubled) - max_files} more files with rejects.")
