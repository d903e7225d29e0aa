"""Commands that run Dagster jobs show their progress and keep dbt's own output in a log."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console

from twitch_warehouse.logging import configure_logging
from twitch_warehouse.runtime import pipeline_step


def test_dbt_output_goes_to_the_log_and_progress_to_the_terminal(warehouse_home: Path) -> None:
    terminal = io.StringIO()
    console = Console(file=terminal)
    with pipeline_step(console, "Dagster: hourly_chat…"):
        print("12 of 35 PASS not_null_stg_raw__chat_events_channel")  # as dagster-dbt writes it
        console.print("✓ hourly_chat")
    log = (warehouse_home / "logs" / "pipeline.log").read_text()
    assert "not_null_stg_raw__chat_events_channel" in log
    assert "not_null" not in terminal.getvalue() and "✓ hourly_chat" in terminal.getvalue()

    with pytest.raises(RuntimeError), pipeline_step(console, "Dagster: daily_report…"):
        raise RuntimeError("dbt failed")
    assert (
        f"daily_report failed; dbt and Dagster output: {warehouse_home / 'logs' / 'pipeline.log'}"
        in (terminal.getvalue().replace("\n", ""))
    )
    console.print("after")  # the console still writes where it did before
    assert terminal.getvalue().endswith("after\n")


def test_verbose_keeps_everything_on_screen(
    warehouse_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = root.level
    configure_logging(logging.DEBUG)  # what `twitch-warehouse -v` does
    try:
        with pipeline_step(Console(file=io.StringIO()), "Dagster: hourly_chat…"):
            print("12 of 35 PASS not_null_stg_raw__chat_events_channel")
    finally:
        configure_logging(logging.INFO)
        root.setLevel(before)
    assert "not_null" in capsys.readouterr().out
    assert not (warehouse_home / "logs" / "pipeline.log").exists()
