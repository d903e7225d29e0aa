"""The whole chain through Dagster on a real PostgreSQL: ingest, dbt, ML, report, and a browser.

Figures are recounted independently from the generated raw IRC lines, never hard-coded.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ingestion.generator import THIRD_PARTY_EMOTES, ChatGenerator
from tests.conftest import CHROMIUM_FLAGS, chromium_path
from twitch_warehouse.db import PgUrl
from twitch_warehouse.demo import land_generated_chat
from twitch_warehouse.settings import get_settings

START = datetime(2026, 11, 1, 18, tzinfo=UTC)
HOURS = 24  # a day's backfill, as one run, across a UTC midnight
CHANNELS = ["alpha", "beta"]
SEED = 11

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("pipeline")]


def _recount() -> tuple[Counter, Counter, Counter]:
    """PRIVMSGs per channel and per (channel, minute), and emote uses per provider, read from
    the raw lines with regexes and plain token splitting."""
    chat = ChatGenerator(CHANNELS, START, HOURS, seed=SEED).generate()
    third_party = {code: p for p, codes in THIRD_PARTY_EMOTES.items() for code in codes}
    per_channel: Counter = Counter()
    per_minute: Counter = Counter()
    emotes: Counter = Counter()
    for channel, lines in chat.lines_by_channel.items():
        for line in lines:
            if f" PRIVMSG #{channel} :" not in line:
                continue
            ms = int(re.search(r"tmi-sent-ts=(\d+)", line).group(1))  # type: ignore[union-attr]
            minute = datetime.fromtimestamp(ms // 60000 * 60, tz=UTC)
            per_channel[channel] += 1
            per_minute[(channel, minute)] += 1
            tag = re.search(r"(?:^@|;)emotes=([^; ]*)", line).group(1)  # type: ignore[union-attr]
            emotes["twitch"] += sum(len(g.split(":")[1].split(",")) for g in tag.split("/") if g)
            text = line.split(f" PRIVMSG #{channel} :", 1)[1]
            emotes.update(third_party[t] for t in text.split(" ") if t in third_party)
    return per_channel, per_minute, emotes


def _mart_checksums(conn: psycopg.Connection) -> dict[str, str]:
    sums = {}
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " order by 1")]  # fmt: skip
    assert len(tables) >= 14
    for table in tables:
        # Sorted whole rows: an order by any column list leaves ties in arbitrary order.
        rows = sorted(map(repr, conn.execute(f"select * from marts.{table}").fetchall()))
        sums[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return sums


_DIRECT_DAY_USAGE = """
    with day_messages as (
        select channel, date_trunc('day', sent_at, 'UTC') as day, count(*) as messages
        from staging.stg_raw__chat_events where event_type = 'message' group by 1, 2
    )
    select
        occ.channel, day_messages.day, occ.emote_code, min(occ.provider), count(*),
        count(distinct occ.user_login), count(distinct occ.chat_event_key),
        round((count(distinct occ.chat_event_key)::double precision
               / day_messages.messages)::numeric, 12)
    from intermediate.int_emote_occurrences as occ
    join day_messages
        on day_messages.channel = occ.channel
        and day_messages.day = date_trunc('day', occ.sent_at, 'UTC')
    group by occ.channel, day_messages.day, occ.emote_code, day_messages.messages
"""


@pytest.fixture(scope="module")
def pipeline_run(module_warehouse_env: PgUrl) -> PgUrl:
    from orchestration.runner import run_catalogs, run_daily, run_hours

    settings = get_settings()
    land_generated_chat(settings, CHANNELS, START, HOURS, SEED)
    instance = dg.DagsterInstance.ephemeral()
    run_catalogs(instance=instance)
    run_hours(START, START + timedelta(hours=HOURS), instance=instance)
    run_daily(instance=instance)
    return module_warehouse_env


def test_pipeline_end_to_end(pipeline_run: PgUrl) -> None:
    """One test, so xdist never runs the shared (expensive) pipeline twice on two workers."""
    _marts_match_an_independent_recount_and_reruns_are_identical(pipeline_run)
    _report_site_is_built_published_and_renders_offline()


def _marts_match_an_independent_recount_and_reruns_are_identical(pipeline_run: PgUrl) -> None:
    from orchestration.runner import run_daily, run_hours

    per_channel, per_minute, emotes = _recount()
    with psycopg.connect(pipeline_run.libpq()) as conn:
        emote_uses = dict(conn.execute(
            "select provider, sum(use_count) from marts.fct_emote_usage"
            " where window_seconds = 86400 group by 1").fetchall())  # fmt: skip
        counted = dict(
            conn.execute("select channel, count(*) from marts.fct_chat_messages group by 1")
        )
        windows = {
            (c, w): n for c, w, n in conn.execute(
                "select channel, window_start_at, message_count from marts.fct_chat_windows"
                " where window_seconds = 60 and message_count > 0")
        }  # fmt: skip
        scored = conn.execute(
            "select count(*) from marts.fct_chat_messages where sentiment_label is not null"
        ).fetchone()[0]  # type: ignore[index]
        channels = dict(conn.execute("select channel, message_count from marts.dim_channels"))
        # Day rows are summed from hourly pieces; they must equal the day aggregated directly.
        day_rows = set(conn.execute(
            "select channel, window_start_at, emote_code, provider, use_count, user_count,"
            " message_count_with_emote, round(share_of_messages::numeric, 12)"
            " from marts.fct_emote_usage where window_seconds = 86400"))  # fmt: skip
        direct_day_rows = set(conn.execute(_DIRECT_DAY_USAGE))
        before = _mart_checksums(conn)

    assert counted == dict(per_channel)
    assert emote_uses == dict(emotes)
    assert windows == dict(per_minute)
    assert scored == sum(per_channel.values())
    assert channels == dict(per_channel)
    assert {row[1] for row in day_rows} == {
        START.replace(hour=0),
        START.replace(hour=0) + timedelta(days=1),
    }
    assert day_rows == direct_day_rows

    # Re-running one hour, then the whole 24-hour backfill (each time with the daily models),
    # leaves every mart identical.
    instance = dg.DagsterInstance.ephemeral()
    for rerun_start, rerun_end in [
        (START + timedelta(hours=7), START + timedelta(hours=8)),
        (START, START + timedelta(hours=HOURS)),
    ]:
        run_hours(rerun_start, rerun_end, instance=instance)
        run_daily(instance=instance)
        with psycopg.connect(pipeline_run.libpq()) as conn:
            after = _mart_checksums(conn)
        assert [t for t in before if before[t] != after.get(t)] == [], (rerun_start, rerun_end)
    # The UI shows what each model wrote: the backfill's messages, as the recount has them.
    written = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_chat_messages"]))
    assert written is not None and written.asset_materialization is not None
    assert written.asset_materialization.metadata["rows_affected"].value == sum(
        per_channel.values()
    )


def _report_site_is_built_published_and_renders_offline() -> None:
    settings = get_settings()
    index = settings.site_dir / "index.html"
    assert index.exists()
    for channel in CHANNELS:
        assert (settings.site_dir / "channels" / f"{channel}.html").exists()
    latest = settings.report_publish_dir / "latest"
    assert latest.is_symlink() and (latest / "index.html").exists()

    chromium = chromium_path()
    if chromium is None:
        pytest.skip("no chromium binary (CI installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=CHROMIUM_FLAGS,
        )
        page = browser.new_page()
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
        )
        page.goto(index.as_uri())
        page.wait_for_selector("#volume .main-svg", timeout=15_000)
        traces = page.evaluate("document.getElementById('volume').data.length")
        messages = page.inner_text("[data-stat=messages]")
        page.click("text=#alpha")
        page.wait_for_selector("#activity .main-svg", timeout=15_000)
        page.screenshot(path=str(Path(settings.warehouse_home) / "channel.png"))
        browser.close()
    assert traces == len(CHANNELS)
    per_channel, _, _ = _recount()
    assert int(messages.replace(",", "")) == sum(per_channel.values())
    assert outside == []
