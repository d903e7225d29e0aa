"""`make demo`: generate chat, land it, run every asset through Dagster, report what was built."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from ingestion.catalogs import land_snapshot
from ingestion.generator import ChatGenerator, demo_emote_snapshots, iter_lines_by_hour
from ingestion.irc import parse_line
from ingestion.landing import HourlyWriter, landing_path
from ingestion.load import NO_OPTOUTS, OptOuts, read_optouts
from ingestion.migrations import upgrade
from twitch_warehouse.db import connect, warehouse_url
from twitch_warehouse.runtime import pipeline_step, prepare_environment
from twitch_warehouse.settings import Settings, get_settings

DEMO_CHANNELS = ["pixelwolf", "noodlequest", "teatimetactics"]
# Two Sunday-evening streams a week apart, so the weekly models (hype, moderation) of the second
# week are fitted on the first week's chat, and regulars, segments and topics span two streams.
DEMO_STREAMS = [datetime(2026, 10, 25, 18, tzinfo=UTC), datetime(2026, 11, 1, 18, tzinfo=UTC)]


@dataclass
class DemoSummary:
    streams: list[tuple[datetime, datetime]]
    lines: int
    rows_per_mart: dict[str, int]
    site_index: str
    seconds: float


def land_generated_chat(
    settings: Settings, channels: list[str], start: datetime, hours: int, seed: int,
    stream: int = 0, optouts: OptOuts = NO_OPTOUTS,
) -> int:  # fmt: skip
    """Write the generated chat to landing files, replacing those hours' files (idempotent).
    Lines of opted-out chatters are not landed, as live capture and imports skip them.
    Returns the lines landed."""
    chat = ChatGenerator(channels, start, hours, seed=seed, stream=stream).generate()
    for channel in channels:
        for h in range(hours):
            landing_path(settings.landing_dir, "irc", channel, start + timedelta(hours=h)).unlink(
                missing_ok=True
            )
    landed = 0
    with HourlyWriter(settings.landing_dir, "irc", batch_size=5_000) as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            if optouts and (event := parse_line(line)) is not None and optouts.covers(event):
                continue
            writer.write(channel, sent_at, line)
            landed += 1
    for snapshot in demo_emote_snapshots(channels, start.date()):
        land_snapshot(settings.landing_dir, snapshot)
    return landed


def run_demo(*, hours: int = 3, seed: int = 42, console: Console | None = None) -> DemoSummary:
    """`hours` of chat per stream, for each of the `DEMO_STREAMS`."""
    console = console or Console()
    settings = get_settings()
    began = time.perf_counter()
    with console.status("Starting PostgreSQL and preparing Dagster…"):
        prepare_environment(settings)
        upgrade(warehouse_url(settings).sqlalchemy())
        with connect(warehouse_url(settings)) as conn:
            optouts = read_optouts(conn)
    streams = [(start, start + timedelta(hours=hours)) for start in DEMO_STREAMS]
    lines = 0
    with console.status(
        f"Generating {len(DEMO_CHANNELS)} channels x {len(streams)} streams x {hours} h of chat…"
    ):
        for number, (start, _) in enumerate(streams):
            lines += land_generated_chat(
                settings, DEMO_CHANNELS, start, hours, seed, number, optouts=optouts
            )
    console.print(f"[green]✓[/] landed {lines:,} raw IRC lines in {settings.landing_dir}")

    from orchestration.defs.reports import MARTS_READ
    from orchestration.runner import run_catalogs, run_daily, run_hours

    with pipeline_step(console, "Dagster: emote_catalogs…"):
        run_catalogs()
    console.print("[green]✓[/] emote_catalogs: BTTV/FFZ/7TV snapshots")
    for start, end in streams:
        with pipeline_step(
            console, f"Dagster: hourly_chat, {hours} partitions from {start:%Y-%m-%d}…"
        ):
            run_hours(start, end)
        console.print(
            f"[green]✓[/] hourly_chat {start:%Y-%m-%d %H:00}: raw → staging → ML scores → "
            "intermediate → bursts, hype, moderation risk → marts (one run)"
        )
    with pipeline_step(console, "Dagster: daily_report (dimensions + report site)…"):
        run_daily()
    console.print(
        "[green]✓[/] daily_report: streams → segments, topics, patterns → marts → report site"
    )

    with connect(warehouse_url(settings)) as conn:
        rows = {
            table: conn.execute(f"select count(*) from marts.{table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in (key.path[-1] for key in MARTS_READ)
        }
    summary = DemoSummary(streams, lines, rows, str(settings.site_dir / "index.html"),
                          time.perf_counter() - began)  # fmt: skip
    _print_summary(console, summary, settings)
    return summary


def _print_summary(console: Console, summary: DemoSummary, settings: Settings) -> None:
    table = Table(title="Marts built", show_edge=False)
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for name, count in summary.rows_per_mart.items():
        table.add_row(f"marts.{name}", f"{count:,}")
    console.print(table)
    spans = ", ".join(f"{a:%Y-%m-%d %H:00} → {b:%H:00}" for a, b in summary.streams)
    partitions = sum(int((b - a).total_seconds() // 3600) for a, b in summary.streams)
    console.print(
        f"Partitions: {spans} UTC ({partitions} hourly partitions)\n"
        f"Report site: file://{summary.site_index}\n"
        f"Published:   {settings.report_publish_dir / 'latest'}\n"
        f"Dagster UI:  run `make ui`, then open http://127.0.0.1:3000 (lineage under Assets)\n"
        f"dbt output:  {settings.warehouse_home / 'logs' / 'pipeline.log'} (on screen with -v)\n"
        f"Done in {summary.seconds:.1f}s."
    )
