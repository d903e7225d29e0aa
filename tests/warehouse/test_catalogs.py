"""Emote catalog snapshots in a real PostgreSQL: which loads change the emotes valid on a date,
and which built hours matched their chat against what changed (those hours run again)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.catalogs import hours_matched_against, load_snapshots
from tests.dbt_cli import run_dbt
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def _record(day: date, codes: list[str], channel: str | None = None) -> dict:
    return {"snapshot_date": day.isoformat(), "provider": "bttv",
            "scope": "channel" if channel else "global", "channel": channel,
            "emotes": [{"emote_id": f"id-{c}", "code": c} for c in codes]}  # fmt: skip


@pytest.fixture
def conn(migrated: PgUrl) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated.libpq()) as conn:
        yield conn


def test_a_snapshot_changes_the_catalog_only_when_its_emotes_differ(
    conn: psycopg.Connection,
) -> None:
    def changed(*records: dict) -> list[tuple]:
        return list(load_snapshots(conn, records).changed)

    assert changed(_record(D1, ["KEKW"])) == [(D1, "bttv", "global", "")]  # a new set
    assert changed(_record(D1, ["KEKW"])) == []  # landed again
    assert changed(_record(D2, ["KEKW"])) == []  # the daily fetch found the same set
    assert changed(_record(D3, ["KEKW", "catJAM"])) == [(D3, "bttv", "global", "")]
    assert changed(_record(D2, ["KEKW", "OMEGALUL"])) == [(D2, "bttv", "global", "")]
    assert changed(_record(D1, ["KEKW"], channel="forsen")) == [(D1, "bttv", "channel", "forsen")]
    # A channel without a set (the provider answers 404): an empty snapshot, loaded every day.
    assert changed(_record(D1, [], channel="nymn"), _record(D2, [], channel="nymn")) == []
    assert changed(_record(D1, [], channel="nymn"), _record(D2, [], channel="nymn")) == []


def test_built_hours_within_a_changed_snapshots_validity_are_found(
    migrated: PgUrl, conn: psycopg.Connection, tmp_path: Path
) -> None:
    """The validity windows are dbt's (`int_emote_catalog_validity`, a view built here by dbt);
    the chat windows are a hand-made stand-in with the columns read."""
    assert hours_matched_against(conn, [(D1, "bttv", "global", "")]) == []  # nothing built yet
    run_dbt(migrated, tmp_path, "run", "--quiet", "--select",
            "stg_raw__emote_catalog_snapshots", "int_emote_catalog_validity")  # fmt: skip
    conn.execute("create schema if not exists intermediate")
    conn.execute(
        "create table intermediate.int_chat_window_activity"
        " (channel text, window_seconds int, window_start_at timestamptz)"
    )
    hours = {channel: [datetime(2026, 2, 27, 20, tzinfo=UTC) + timedelta(hours=h * 17)
                       for h in range(8)] for channel in ("forsen", "nymn")}  # fmt: skip
    for channel, starts in hours.items():
        for hour in starts:
            for seconds in (60, 300):
                conn.execute(
                    "insert into intermediate.int_chat_window_activity values (%s, %s, %s)",
                    (channel, seconds, hour + timedelta(minutes=5)),
                )
    load_snapshots(conn, [_record(D1, ["KEKW"]), _record(D3, ["KEKW", "catJAM"]),
                          _record(D2, ["KEKW"], channel="forsen")])  # fmt: skip
    every = sorted(hours["forsen"] + hours["nymn"])
    after_d3 = [h for h in every if h >= datetime(2026, 3, 3, tzinfo=UTC)]
    assert after_d3 and len(after_d3) < len(every)
    # The global set's change on D3 reaches every channel's hours from D3 on.
    assert hours_matched_against(conn, [(D3, "bttv", "global", "")]) == sorted(set(after_d3))
    # Its first snapshot reaches back to the start, up to the next snapshot.
    first = [h for h in every if h < datetime(2026, 3, 3, tzinfo=UTC)]
    assert hours_matched_against(conn, [(D1, "bttv", "global", "")]) == sorted(set(first))
    # A channel's first set reaches all of that channel's hours, and no other channel's.
    assert hours_matched_against(conn, [(D2, "bttv", "channel", "forsen")]) == hours["forsen"]
