"""The raw asset's blocking reject check judges each hour of a backfill, not their average.

A real Dagster materialization of `raw/chat_events` over two hours on a real PostgreSQL: one hour
of clean generated chat, one hour whose landing file is garbage. Averaged over the range the
rejects would pass the threshold; the check must fail and name the bad hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.irc import parse_line
from ingestion.landing import HourlyWriter
from orchestration.defs.ingest import REJECT_CHECK, raw_chat_events
from orchestration.partitions import range_tags
from orchestration.resources import WarehouseResource
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

CLEAN = datetime(2026, 4, 5, 10, tzinfo=UTC)
BAD = CLEAN + timedelta(hours=1)


def _materialize(start: datetime, end: datetime) -> tuple[dg.AssetCheckEvaluation, dict]:
    result = dg.materialize(
        [raw_chat_events],
        resources={"warehouse": WarehouseResource()},
        tags=range_tags(start, end),  # one run over the range, as a backfill runs
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == REJECT_CHECK
    # One materialization per hour of the range, each with the range's metadata.
    materialization = result.asset_materializations_for_node("raw__chat_events")[0]
    return evaluation, {k: v.value for k, v in materialization.metadata.items()}


def test_one_bad_hour_fails_the_check_of_a_mostly_clean_backfill(migrated: PgUrl) -> None:
    settings = get_settings()
    chat = ChatGenerator(["alpha"], CLEAN, 1, seed=2, messages_per_minute=60).generate()
    with HourlyWriter(settings.landing_dir, "irc") as writer:
        for channel, sent_at, line in iter_lines_by_hour(chat):
            writer.write(channel, sent_at, line)
        # Half a percent of the range's lines, but all of its second hour: unparseable.
        for n in range(chat.line_count // 200):
            writer.write("alpha", BAD + timedelta(seconds=n), f"garbage line {n}")

    clean_only, loaded = _materialize(CLEAN, BAD)
    assert clean_only.passed
    # The preview counts each channel's events; Dagster keeps it for good, so it holds no text.
    events = (parse_line(line) for lines in chat.lines_by_channel.values() for line in lines)
    messages = [e.text for e in events if e and e.text and len(e.text) >= 12]
    assert messages
    assert f"| alpha | {loaded['rows_loaded']:,} |" in loaded["preview"]
    assert not any(text in loaded["preview"] for text in messages)

    both, _ = _materialize(CLEAN, BAD + timedelta(hours=1))
    meta = {k: v.value for k, v in both.metadata.items()}
    assert meta["reject_ratio"] < settings.max_reject_ratio  # the range's average passes...
    assert not both.passed  # ...the check does not
    assert meta["worst_hour"] == BAD.isoformat() and meta["worst_hour_reject_ratio"] == 1.0
