"""Sensors that run hours again, over real Dagster materializations of `raw/chat_events` on a
real PostgreSQL: an hour its neighbour's load changed, and hours whose landing files were never
loaded or changed after their load.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from ingestion.landing import landing_path
from orchestration.defs.ingest import raw_chat_events
from orchestration.defs.jobs import landed_hours_sensor, stale_hours_sensor
from orchestration.partitions import partition_key
from orchestration.resources import WarehouseResource
from orchestration.runner import run_stale_hours
from tests.edge_copies import land_copies_across_edge
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

H12 = datetime(2026, 4, 5, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
H13 = H12 + HOUR


def _load(hour: datetime) -> dict:
    result = dg.materialize([raw_chat_events], partition_key=partition_key(hour),
                            resources={"warehouse": WarehouseResource()})  # fmt: skip
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata["neighbour_hours_changed"].value  # type: ignore[return-value]


def _requests(sensor=stale_hours_sensor) -> list[dg.RunRequest]:
    context = dg.build_sensor_context(resources={"warehouse": WarehouseResource()})
    return [r for r in sensor(context) or [] if isinstance(r, dg.RunRequest)]


def test_the_sensor_runs_again_an_hour_its_neighbour_changed(migrated: PgUrl) -> None:
    """A VOD export stamps a message 12:59:59.9 and IRC 13:00:00.1. Hour 13's load keeps the IRC
    copy and deletes the other from the built hour 12; the sensor asks for hours 12-13 once, and
    nothing once they ran again."""
    land_copies_across_edge(get_settings().landing_dir, H13, before="gql", after="irc")

    assert _load(H12) == []
    assert _requests() == []
    assert _load(H13) == [H12.isoformat()]
    (request,) = _requests()  # with hour 13, built with a first-seen time hour 12 has lost
    assert request.tags["dagster/asset_partition_range_start"] == partition_key(H12)
    assert request.tags["dagster/asset_partition_range_end"] == partition_key(H13)
    assert _requests()[0].run_key == request.run_key  # the same change asks for one run
    # What `twitch-warehouse import` does where no daemon runs the sensor: the whole hourly job.
    assert run_stale_hours(instance=dg.DagsterInstance.ephemeral()) == [(H12, H13 + HOUR)]
    assert _requests() == []


def test_hours_landed_but_never_loaded_or_changed_since_are_run(migrated: PgUrl) -> None:
    """The daemon was down: an hour three hours ago has a landing file and no load. An hour
    that closed minutes ago is the schedule's, not the sensor's."""
    import os

    from ingestion.landing import hour_floor

    now = datetime.now(UTC)
    missed, recent = hour_floor(now - timedelta(hours=3)), hour_floor(now - timedelta(minutes=1))
    landing = get_settings().landing_dir
    for hour in (missed, recent):
        path = landing_path(landing, "irc", "alpha", hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        ms = int((hour + timedelta(minutes=1)).timestamp() * 1000)
        path.write_text(f"@id=m{ms};room-id=1;user-id=2;tmi-sent-ts={ms}"
                        " :bob!bob@bob.tmi.twitch.tv PRIVMSG #alpha :hello\n")  # fmt: skip

    (request,) = _requests(landed_hours_sensor)
    assert request.partition_key == partition_key(missed)
    _load(missed)
    assert _requests(landed_hours_sensor) == []
    # A file of the hour landed late (a log API fetch): the hour is asked for again.
    late = landing_path(landing, "gql", "alpha", missed)
    late.parent.mkdir(parents=True, exist_ok=True)
    late.write_text("")
    later = datetime.now(UTC).timestamp() + 60
    os.utime(late, (later, later))
    (again,) = _requests(landed_hours_sensor)
    assert again.partition_key == partition_key(missed) and again.run_key != request.run_key


def test_a_channels_first_catalog_reaches_the_hours_built_before_it(migrated: PgUrl) -> None:
    """Chat of a channel is built before its BTTV set is known: `catJAM` is no emote then. The
    set's first snapshot covers the channel's whole history, so the catalog asset marks the
    built hour stale and its rerun finds the emote, as a full rebuild would."""
    import psycopg

    from ingestion.catalogs import land_snapshot
    from ingestion.clients.emotes import CatalogEmote, EmoteSnapshot
    from orchestration.defs.catalogs import emote_catalogs
    from orchestration.resources import EmoteApisResource, TwitchApiResource
    from orchestration.runner import run_hours

    hour = datetime(2026, 4, 6, 10, tzinfo=UTC)
    landing = get_settings().landing_dir
    irc = landing_path(landing, "irc", "beta", hour)
    irc.parent.mkdir(parents=True, exist_ok=True)
    ms = int((hour + timedelta(minutes=3)).timestamp() * 1000)
    irc.write_text(f"@id=c1;room-id=9;user-id=3;tmi-sent-ts={ms}"
                   " :eve!eve@eve.tmi.twitch.tv PRIVMSG #beta :catJAM catJAM\n")  # fmt: skip
    instance = dg.DagsterInstance.ephemeral()
    run_hours(hour, hour + timedelta(hours=1), instance=instance)
    uses = ("select count(*) from intermediate.int_emote_occurrences"
            " where channel = 'beta' and emote_code = 'catJAM'")  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        assert conn.execute(uses).fetchone() == (0,)

    emote = CatalogEmote("bttv", "channel", "beta", "bt1", "catJAM")
    land_snapshot(landing, EmoteSnapshot(hour.date() + timedelta(days=2), "bttv", "channel",
                                         "beta", [emote]))  # fmt: skip
    resources = {"warehouse": WarehouseResource(), "twitch": TwitchApiResource(),
                 "emote_apis": EmoteApisResource()}  # fmt: skip
    loaded = dg.materialize([emote_catalogs], resources=resources)
    (event,) = loaded.get_asset_materialization_events()
    assert event.materialization.metadata["built_hours_marked_stale"].value == 1
    (request,) = _requests()
    assert request.tags["dagster/asset_partition_range_start"] == partition_key(hour)
    assert run_stale_hours(instance=instance) == [(hour, hour + timedelta(hours=1))]
    with psycopg.connect(migrated.libpq()) as conn:
        assert conn.execute(uses).fetchone() == (2,)
    assert _requests() == []


def test_stale_hours_before_the_partitions_are_left_to_the_bulk_path(migrated: PgUrl) -> None:
    """A stale 2018 hour has no Dagster partition: the sensor asks only for the later hour (a
    run for the earlier one would fail its partition check); imports rerun it in bulk."""
    import psycopg

    old = datetime(2018, 6, 1, 20, tzinfo=UTC)
    with psycopg.connect(migrated.libpq()) as conn:
        for hour in (old, H12):
            conn.execute(
                "insert into raw.partition_loads (partition_start, files, events, rejects,"
                " stale_since) values (%s, 1, 1, 0, now())", (hour,),
            )  # fmt: skip
    (request,) = _requests()
    assert request.tags["dagster/asset_partition_range_start"] == partition_key(H12)
