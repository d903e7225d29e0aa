"""Emote catalogs and Twitch metadata: dated snapshots refreshed daily, loaded before chat."""

import asyncio
from datetime import UTC, datetime

import dagster as dg
from psycopg.types.json import Jsonb

from ingestion.catalogs import (
    hours_matched_against,
    land_snapshot,
    load_snapshots,
    read_snapshots,
)
from ingestion.helix_metadata import tracked_channels
from ingestion.load import mark_stale_hours
from ingestion.migrations import upgrade
from orchestration.resources import EmoteApisResource, TwitchApiResource, WarehouseResource
from twitch_warehouse.settings import get_settings


class CatalogFetchConfig(dg.Config):
    """Fetch today's sets from the BTTV, FFZ and 7TV APIs before loading (needs network).

    `fetch` unset: fetch when Twitch credentials are configured (a live deployment; channel sets
    need Helix user ids), else only load landed snapshots (the demo, an offline machine).
    `channels` empty: every channel with chat in the warehouse.
    """

    fetch: bool | None = None
    channels: list[str] = []


@dg.asset(
    key=["raw", "emote_catalogs"],
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Twitch, BTTV, FFZ and 7TV emote sets as dated snapshots (raw.emote_catalog_"
    "snapshots), so each message is matched against the sets valid when it was sent.",
)
def emote_catalogs(
    context: dg.AssetExecutionContext,
    config: CatalogFetchConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
    emote_apis: EmoteApisResource,
) -> dg.MaterializeResult:
    settings = get_settings()
    upgrade(warehouse.url().sqlalchemy())
    if twitch.configured if config.fetch is None else config.fetch:
        with warehouse.connect() as conn:
            channels = tracked_channels(conn, config.channels)
        landed = asyncio.run(_fetch(emote_apis, twitch, channels))
        for snapshot in landed:
            land_snapshot(settings.landing_dir, snapshot)
        context.log.info(f"fetched {len(landed)} snapshots for {len(channels)} channels")
    with warehouse.connect() as conn:
        result = load_snapshots(conn, read_snapshots(settings.landing_dir))
        # Hours built before a set (or a change to it) was known: `stale_hours_sensor` reruns them.
        stale = hours_matched_against(conn, result.changed)
        mark_stale_hours(conn, stale)
        conn.commit()
        by_provider = dict(
            conn.execute(
                "select provider, count(distinct emote_id) from raw.emote_catalog_snapshots"
                " group by 1 order by 1"
            ).fetchall()
        )
    return dg.MaterializeResult(
        metadata={
            "snapshots_loaded": dg.MetadataValue.int(result.snapshots),
            "emotes_loaded": dg.MetadataValue.int(result.emotes),
            "snapshots_changed": dg.MetadataValue.int(len(result.changed)),
            "built_hours_marked_stale": dg.MetadataValue.int(len(stale)),
            "distinct_emotes_by_provider": dg.MetadataValue.json(by_provider),
        }
    )


async def _fetch(
    emote_apis: EmoteApisResource, twitch: TwitchApiResource, channels: list[str]
) -> list:
    today = datetime.now(UTC).date()
    async with emote_apis.client() as client:
        snapshots = await client.global_snapshots(today)
        if channels and twitch.configured:
            async with twitch.helix() as helix:
                users = await helix.users(logins=channels)
            for user in users:
                snapshots += await client.channel_snapshots(today, user["login"], user["id"])
    return snapshots


class StreamsConfig(dg.Config):
    """Channels whose live streams are recorded (title, game, start) from the Helix API; empty
    means every channel with chat in the warehouse."""

    channels: list[str] = []


@dg.asset(
    key=["raw", "helix_streams"],
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Live streams from Helix (id, title, game, start); a stream session of chat "
    "takes the title, game and start of the one that began shortly before or during it. "
    "Skipped without Twitch credentials.",
)
def helix_streams(
    context: dg.AssetExecutionContext,
    config: StreamsConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
) -> dg.MaterializeResult:
    upgrade(warehouse.url().sqlalchemy())
    with warehouse.connect() as conn:
        channels = tracked_channels(conn, config.channels)
    if not (channels and twitch.configured):
        context.log.info("no channels or no TWITCH_CLIENT_ID/SECRET: nothing fetched")
        return dg.MaterializeResult(metadata={"streams_upserted": 0, "skipped": True})
    streams = asyncio.run(_live_streams(twitch, channels))
    with warehouse.connect() as conn, conn.transaction():
        for s in streams:
            conn.execute(
                """insert into raw.helix_streams
                   (stream_id, channel, channel_id, title, game_name, started_at, payload)
                   values (%s, %s, %s, %s, %s, %s, %s)
                   on conflict (stream_id) do update set title = excluded.title,
                     game_name = excluded.game_name, payload = excluded.payload,
                     fetched_at = now()""",
                (s["id"], s["user_login"].lower(), s["user_id"], s.get("title"),
                 s.get("game_name"), s["started_at"], Jsonb(s)),
            )  # fmt: skip
    return dg.MaterializeResult(metadata={"streams_upserted": len(streams), "skipped": False})


async def _live_streams(twitch: TwitchApiResource, channels: list[str]) -> list[dict]:
    async with twitch.helix() as helix:
        return await helix.streams(user_logins=channels)
