"""Helix metadata kept current: users, channel information, videos and chat badges, daily.

The channels are the configured ones, or else every channel with chat in the warehouse. Without
TWITCH_CLIENT_ID/SECRET (or with no channel to track) each asset fetches nothing and says so.
The fetch and upsert code is `ingestion.helix_metadata`; these assets only wire it to Dagster.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, LiteralString, TypeVar

import dagster as dg
import psycopg
from psycopg import sql

from ingestion import helix_metadata as hm
from ingestion.migrations import upgrade
from orchestration.resources import TwitchApiResource, WarehouseResource

T = TypeVar("T")
USERS = dg.AssetKey(["raw", "helix_users"])
PREVIEW_ROWS = 5


class HelixMetadataConfig(dg.Config):
    """Channels (logins) to keep current; empty means every channel seen in chat."""

    channels: list[str] = []


class HelixVideosConfig(HelixMetadataConfig):
    video_type: str = "all"  # archive, highlight, upload or all
    max_videos_per_channel: int = 100


def _skipped(context: dg.AssetExecutionContext, reason: str) -> dg.MaterializeResult:
    context.log.info(f"{reason}: nothing fetched")
    return dg.MaterializeResult(metadata={"rows_fetched": 0, "skipped": True, "reason": reason})


def _with_helix(twitch: TwitchApiResource, step: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        async with twitch.helix() as helix:
            return await step(helix)

    return asyncio.run(main())


def _preview(
    conn: psycopg.Connection, query: LiteralString, params: Sequence[Any], header: list[str]
) -> str:
    rows = conn.execute(query, params).fetchall()
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *(
            "| " + " | ".join(str(v if v is not None else "").replace("|", " ") for v in row) + " |"
            for row in rows
        ),
    ]
    return "\n".join(lines)


def _metadata(
    conn: psycopg.Connection, table: str, result: hm.Upsert, preview: str, **extra: Any
) -> dict[str, Any]:
    count = sql.SQL("select count(*) from {}").format(sql.Identifier("raw", table))
    total = conn.execute(count).fetchone()
    return {
        **result.as_metadata(),
        "table_rows": dg.MetadataValue.int(int(total[0]) if total else 0),
        "skipped": False,
        **extra,
        "preview": dg.MetadataValue.md(preview),
    }


def _channels_and_ids(
    context: dg.AssetExecutionContext, conn: psycopg.Connection, configured: list[str]
) -> tuple[list[str], dict[str, str]]:
    channels = hm.tracked_channels(conn, configured)
    ids = hm.broadcaster_ids(conn, channels)
    unknown = sorted(set(channels) - set(ids))
    if unknown:
        context.log.warning(f"no Helix user id yet (run raw/helix_users) for {unknown}")
    return channels, ids


@dg.asset(
    key=USERS,
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Twitch users of the tracked channels (Get Users: display name, broadcaster "
    "type, account creation, profile image) upserted into raw.helix_users. Skipped without "
    "Twitch credentials.",
)
def helix_users(
    context: dg.AssetExecutionContext,
    config: HelixMetadataConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
) -> dg.MaterializeResult:
    upgrade(warehouse.url().sqlalchemy())
    if not twitch.configured:
        return _skipped(context, "no TWITCH_CLIENT_ID/SECRET")
    with warehouse.connect() as conn:
        channels = hm.tracked_channels(conn, config.channels)
        if not channels:
            return _skipped(context, "no channels configured or seen in chat")
        fetched_at = datetime.now(UTC)
        refresh = _with_helix(
            twitch, lambda helix: hm.refresh_users(conn, helix, channels, fetched_at)
        )
        preview = _preview(
            conn,
            "select login, display_name, broadcaster_type, created_at::date, fetched_at"
            " from raw.helix_users where login = any(%s) order by login limit %s",
            (channels, PREVIEW_ROWS),
            ["login", "display_name", "broadcaster_type", "created", "fetched_at"],
        )
        metadata = _metadata(
            conn, "helix_users", refresh.result, preview,
            channels=len(channels), missing_logins=dg.MetadataValue.json(refresh.missing),
        )  # fmt: skip
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["raw", "helix_channels"],
    deps=[USERS],
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Channel information of the tracked channels (Get Channel Information: game, "
    "title, language, tags) upserted into raw.helix_channels. Skipped without Twitch "
    "credentials.",
)
def helix_channels(
    context: dg.AssetExecutionContext,
    config: HelixMetadataConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
) -> dg.MaterializeResult:
    upgrade(warehouse.url().sqlalchemy())
    if not twitch.configured:
        return _skipped(context, "no TWITCH_CLIENT_ID/SECRET")
    with warehouse.connect() as conn:
        _, ids = _channels_and_ids(context, conn, config.channels)
        if not ids:
            return _skipped(context, "no tracked channel with a Helix user id")
        fetched_at = datetime.now(UTC)
        result = _with_helix(
            twitch, lambda helix: hm.refresh_channels(conn, helix, list(ids.values()), fetched_at)
        )
        preview = _preview(
            conn,
            "select broadcaster_login, game_name, title, broadcaster_language, fetched_at"
            " from raw.helix_channels where broadcaster_id = any(%s)"
            " order by broadcaster_login limit %s",
            (list(ids.values()), PREVIEW_ROWS),
            ["channel", "game", "title", "language", "fetched_at"],
        )
        metadata = _metadata(conn, "helix_channels", result, preview, channels=len(ids))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["raw", "helix_videos"],
    deps=[USERS],
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Recent videos of the tracked channels (Get Videos, paginated: past broadcasts "
    "with their stream id, highlights, uploads) upserted into raw.helix_videos; videos Twitch "
    "has deleted stay. Skipped without Twitch credentials.",
)
def helix_videos(
    context: dg.AssetExecutionContext,
    config: HelixVideosConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
) -> dg.MaterializeResult:
    upgrade(warehouse.url().sqlalchemy())
    if not twitch.configured:
        return _skipped(context, "no TWITCH_CLIENT_ID/SECRET")
    with warehouse.connect() as conn:
        _, ids = _channels_and_ids(context, conn, config.channels)
        if not ids:
            return _skipped(context, "no tracked channel with a Helix user id")
        fetched_at = datetime.now(UTC)
        result = _with_helix(
            twitch,
            lambda helix: hm.refresh_videos(
                conn, helix, list(ids.values()), video_type=config.video_type,
                limit=config.max_videos_per_channel, fetched_at=fetched_at,
            )
        )  # fmt: skip
        by_type = dict(
            conn.execute(
                "select video_type, count(*) from raw.helix_videos where user_id = any(%s)"
                " group by 1 order by 1",
                (list(ids.values()),),
            ).fetchall()
        )
        preview = _preview(
            conn,
            "select user_login, video_id, video_type, created_at, duration_seconds, stream_id"
            " from raw.helix_videos where user_id = any(%s)"
            " order by created_at desc nulls last, video_id limit %s",
            (list(ids.values()), PREVIEW_ROWS),
            ["channel", "video_id", "type", "created_at", "seconds", "stream_id"],
        )
        metadata = _metadata(
            conn, "helix_videos", result, preview,
            channels=len(ids), videos_by_type=dg.MetadataValue.json(by_type),
        )  # fmt: skip
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["raw", "helix_badges"],
    deps=[USERS],
    group_name="catalogs",
    kinds={"python", "postgres"},
    owners=["team:ingestion"],
    tags={"cadence": "catalogs"},
    description="Chat badges (Get Global Chat Badges, and Get Channel Chat Badges for each "
    "tracked channel) in raw.helix_badges; each fetch replaces its scope's versions. Skipped "
    "without Twitch credentials.",
)
def helix_badges(
    context: dg.AssetExecutionContext,
    config: HelixMetadataConfig,
    warehouse: WarehouseResource,
    twitch: TwitchApiResource,
) -> dg.MaterializeResult:
    upgrade(warehouse.url().sqlalchemy())
    if not twitch.configured:
        return _skipped(context, "no TWITCH_CLIENT_ID/SECRET")
    with warehouse.connect() as conn:
        _, ids = _channels_and_ids(context, conn, config.channels)
        fetched_at = datetime.now(UTC)
        result = _with_helix(
            twitch,
            lambda helix: hm.refresh_badges(conn, helix, list(ids.values()), fetched_at=fetched_at),
        )
        by_scope = dict(
            conn.execute(
                "select scope, count(*) from raw.helix_badges group by 1 order by 1"
            ).fetchall()
        )
        preview = _preview(
            conn,
            "select scope, broadcaster_id, set_id, version_id, title from raw.helix_badges"
            " order by scope desc, broadcaster_id, set_id, version_id limit %s",
            (PREVIEW_ROWS,),
            ["scope", "broadcaster_id", "set_id", "version", "title"],
        )
        metadata = _metadata(
            conn, "helix_badges", result, preview,
            channels=len(ids), versions_by_scope=dg.MetadataValue.json(by_scope),
        )  # fmt: skip
    return dg.MaterializeResult(metadata=metadata)
