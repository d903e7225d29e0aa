"""`twitch-warehouse optout USER` and `forget USER` on a small loaded warehouse (no Dagster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from typer.testing import CliRunner

from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition
from twitch_warehouse.cli import app
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)


def test_optout_and_forget_commands(migrated: PgUrl) -> None:
    settings = get_settings()
    chat = ChatGenerator(["alpha"], HOUR, 1, seed=9, messages_per_minute=10).generate()
    with HourlyWriter(settings.landing_dir, "irc") as writer:
        for channel, hour, line in iter_lines_by_hour(chat):
            writer.write(channel, hour, line)
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        login, messages = conn.execute(
            "select user_login, count(*) from raw.chat_events where event_type = 'message'"
            " group by 1 order by 2 desc, 1 limit 1"
        ).fetchone()  # type: ignore[misc]

    runner = CliRunner()
    done = runner.invoke(app, ["optout", "Some_Chatter"])
    assert done.exit_code == 0, done.output
    assert "some_chatter opted out" in done.output
    assert "already" in runner.invoke(app, ["optout", "some_chatter"]).output

    done = runner.invoke(app, ["forget", login, "--no-rebuild"])
    assert done.exit_code == 0, done.output
    assert f"Forgotten: {login}" in done.output and "raw.chat_events" in done.output
    assert f"{messages:,}" in done.output  # the authored rows, counted
    with psycopg.connect(migrated.libpq()) as conn:
        left = conn.execute(
            "select count(*) from raw.chat_events where user_login = %s or target_user_login = %s",
            (login, login),
        ).fetchone()[0]  # type: ignore[index]
        optouts = {r[0] for r in conn.execute("select user_login from raw.chatter_optouts")}
        reload = load_partition(
            conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT)
        )
    assert left == 0 and optouts == {"some_chatter", login}
    assert reload.opted_out == 0  # the landing files no longer hold their lines either
    assert runner.invoke(app, ["forget", "two words"]).exit_code != 0
