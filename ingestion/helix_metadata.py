"""Helix metadata snapshots: users, channel information, videos and chat badges in `raw`.

Each table keeps the current version of one Helix object per key with the original answer as
`payload` (see migration 0004). A refresh fetches with `HelixClient` and upserts: new keys are
inserted, a known key is rewritten only when Helix answered something different, and then its
`fetched_at` becomes the time of this fetch. Fetching the same answers again changes nothing, so
a rerun leaves the tables as they were. Badges are a set per scope (global, or one channel): a
refresh of a scope also deletes the versions Twitch no longer lists. Users, channels and videos
are kept when Helix stops returning them (renamed, banned, or an expired archive).

Fetching (async) and loading (`load_*`, plain psycopg) are separate functions, and `refresh_*`
runs one after the other; the Dagster assets in `orchestration/defs/helix.py` call those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ingestion.clients.helix import HelixClient
from twitch_warehouse.logging import get_logger

log = get_logger(__name__)

VIDEO_TYPES = ("all", "archive", "highlight", "upload")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


@dataclass(frozen=True, slots=True)
class Upsert:
    """What a load did: rows Helix returned, and how many were new, changed or deleted."""

    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        return self.fetched - self.inserted - self.updated

    def __add__(self, other: Upsert) -> Upsert:
        return Upsert(
            self.fetched + other.fetched,
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.deleted + other.deleted,
        )

    def as_metadata(self) -> dict[str, int]:
        return {
            "rows_fetched": self.fetched,
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_unchanged": self.unchanged,
            "rows_deleted": self.deleted,
        }


@dataclass(frozen=True, slots=True)
class BadgeSet:
    """One scope's badge sets as Helix answered: global (broadcaster_id '') or one channel."""

    scope: str
    broadcaster_id: str
    sets: list[dict[str, Any]]


# -- parsing -----------------------------------------------------------------------------------
def parse_duration(text: str | None) -> int | None:
    """Helix video durations ('3h8m33s', '45m', '12s') in seconds; None when unreadable."""
    if not text:
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _timestamp(value: Any) -> str | None:
    """Helix sends '' for a missing time; PostgreSQL parses the ISO strings itself."""
    return value or None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


USER_COLUMNS = ("user_id", "login", "display_name", "broadcaster_type", "description",
                "created_at", "profile_image_url", "payload")  # fmt: skip
CHANNEL_COLUMNS = ("broadcaster_id", "broadcaster_login", "broadcaster_name",
                   "broadcaster_language", "game_id", "game_name", "title", "tags",
                   "payload")  # fmt: skip
VIDEO_COLUMNS = ("video_id", "user_id", "user_login", "title", "video_type", "created_at",
                 "published_at", "duration_seconds", "view_count", "stream_id", "language",
                 "payload")  # fmt: skip
BADGE_COLUMNS = ("scope", "broadcaster_id", "set_id", "version_id", "title", "description",
                 "image_url_1x", "payload")  # fmt: skip


def user_row(user: Mapping[str, Any]) -> tuple:
    return (
        str(user["id"]),
        str(user["login"]).lower(),
        user.get("display_name"),
        user.get("broadcaster_type"),
        user.get("description"),
        _timestamp(user.get("created_at")),
        user.get("profile_image_url") or None,
        Jsonb(dict(user)),
    )


def channel_row(channel: Mapping[str, Any]) -> tuple:
    return (
        str(channel["broadcaster_id"]),
        str(channel["broadcaster_login"]).lower(),
        channel.get("broadcaster_name"),
        channel.get("broadcaster_language") or None,
        channel.get("game_id") or None,  # '' when the broadcaster never set a game
        channel.get("game_name") or None,
        channel.get("title"),
        [str(t) for t in channel.get("tags") or []],
        Jsonb(dict(channel)),
    )


def video_row(video: Mapping[str, Any]) -> tuple:
    view_count = video.get("view_count")
    return (
        str(video["id"]),
        str(video["user_id"]),
        str(video.get("user_login") or "").lower(),
        video.get("title"),
        str(video.get("type") or "archive"),
        _timestamp(video.get("created_at")),
        _timestamp(video.get("published_at")),
        parse_duration(video.get("duration")),
        int(view_count) if view_count is not None else None,
        _text(video.get("stream_id")) or None,
        video.get("language") or None,
        Jsonb(dict(video)),
    )


def badge_rows(badges: BadgeSet) -> list[tuple]:
    rows = []
    for badge_set in badges.sets:
        for version in badge_set.get("versions") or []:
            rows.append(
                (
                    badges.scope,
                    badges.broadcaster_id,
                    str(badge_set["set_id"]),
                    str(version["id"]),
                    version.get("title"),
                    version.get("description"),
                    version.get("image_url_1x"),
                    Jsonb({"set_id": badge_set["set_id"], **version}),
                )
            )
    return rows


# -- loading -----------------------------------------------------------------------------------
def _dedupe(rows: Iterable[tuple], key_width: int) -> list[tuple]:
    """One row per key (the last one wins): Helix pages can repeat an item that moved."""
    return list({row[:key_width]: row for row in rows}.values())


def _upsert(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    key_width: int,
    rows: Iterable[tuple],
    fetched_at: datetime,
) -> Upsert:
    rows = _dedupe(rows, key_width)
    if not rows:
        return Upsert()
    keys, values = columns[:key_width], columns[key_width:]

    def names(cols: Iterable[str], prefix: str | None = None) -> sql.Composed:
        return sql.SQL(", ").join(sql.Identifier(*((prefix, c) if prefix else (c,))) for c in cols)

    query = sql.SQL(
        "insert into {table} ({columns}, fetched_at) values ({placeholders})"
        " on conflict ({keys}) do update set ({values}, fetched_at)"
        " = ({incoming}, excluded.fetched_at)"
        " where ({current}) is distinct from ({incoming})"
        " returning xmax = 0"  # true for an insert, false for an update
    ).format(
        table=sql.Identifier("raw", table),
        columns=names(columns),
        placeholders=sql.SQL(", ").join([sql.Placeholder()] * (len(columns) + 1)),
        keys=names(keys),
        values=names(values),
        incoming=names(values, "excluded"),
        current=names(values, table),
    )
    flags: list[bool] = []
    with conn.cursor() as cur:
        cur.executemany(query, [(*row, fetched_at) for row in rows], returning=True)
        while True:
            flags += [bool(r[0]) for r in cur.fetchall()]
            if not cur.nextset():
                break
    inserted = sum(flags)
    return Upsert(fetched=len(rows), inserted=inserted, updated=len(flags) - inserted)


def _now(fetched_at: datetime | None) -> datetime:
    return fetched_at or datetime.now(UTC)


def load_users(
    conn: psycopg.Connection, users: Iterable[Mapping[str, Any]], fetched_at: datetime | None = None
) -> Upsert:
    with conn.transaction():
        return _upsert(conn, "helix_users", USER_COLUMNS, 1, map(user_row, users), _now(fetched_at))


def load_channels(
    conn: psycopg.Connection,
    channels: Iterable[Mapping[str, Any]],
    fetched_at: datetime | None = None,
) -> Upsert:
    with conn.transaction():
        rows = map(channel_row, channels)
        return _upsert(conn, "helix_channels", CHANNEL_COLUMNS, 1, rows, _now(fetched_at))


def load_videos(
    conn: psycopg.Connection,
    videos: Iterable[Mapping[str, Any]],
    fetched_at: datetime | None = None,
) -> Upsert:
    with conn.transaction():
        return _upsert(
            conn, "helix_videos", VIDEO_COLUMNS, 1, map(video_row, videos), _now(fetched_at)
        )


def load_badges(
    conn: psycopg.Connection, badge_sets: Iterable[BadgeSet], fetched_at: datetime | None = None
) -> Upsert:
    """Upsert each scope's versions and delete the ones its fetch no longer lists."""
    total = Upsert()
    with conn.transaction():
        for badges in badge_sets:
            rows = _dedupe(badge_rows(badges), 4)
            result = _upsert(conn, "helix_badges", BADGE_COLUMNS, 4, rows, _now(fetched_at))
            deleted = conn.execute(
                """delete from raw.helix_badges
                   where scope = %s and broadcaster_id = %s
                     and (set_id, version_id) not in (
                         select * from unnest(%s::text[], %s::text[]))""",
                (badges.scope, badges.broadcaster_id,
                 [r[2] for r in rows], [r[3] for r in rows]),
            ).rowcount  # fmt: skip
            total += Upsert(result.fetched, result.inserted, result.updated, deleted)
    return total


# -- which channels ----------------------------------------------------------------------------
def normalize_logins(logins: Iterable[str]) -> list[str]:
    return sorted({x.strip().lstrip("#").lower() for x in logins if x.strip().lstrip("#")})


def tracked_channels(conn: psycopg.Connection, configured: Iterable[str] = ()) -> list[str]:
    """The configured channels, or else every channel with chat in the warehouse."""
    logins = normalize_logins(configured)
    if logins:
        return logins
    # A skip scan over the (channel, ...) primary key: one index probe per distinct channel.
    rows = conn.execute(
        """with recursive channels as (
               (select channel from raw.chat_events order by channel limit 1)
               union all
               select (select e.channel from raw.chat_events as e
                       where e.channel > channels.channel order by e.channel limit 1)
               from channels where channels.channel is not null
           )
           select channel from channels where channel is not null"""
    ).fetchall()
    return normalize_logins(r[0] for r in rows)


def broadcaster_ids(conn: psycopg.Connection, logins: Iterable[str]) -> dict[str, str]:
    """Login -> Twitch user id from raw.helix_users (the latest user fetched with that login)."""
    rows = conn.execute(
        """select distinct on (login) login, user_id from raw.helix_users
           where login = any(%s) order by login, fetched_at desc, user_id""",
        (normalize_logins(logins),),
    ).fetchall()
    return dict(rows)


# -- fetching ----------------------------------------------------------------------------------
async def fetch_users(helix: HelixClient, logins: Sequence[str]) -> list[dict[str, Any]]:
    return await helix.users(logins=normalize_logins(logins))


async def fetch_channels(helix: HelixClient, ids: Sequence[str]) -> list[dict[str, Any]]:
    return await helix.channel_information(ids)


async def fetch_videos(
    helix: HelixClient, ids: Sequence[str], *, video_type: str = "archive", limit: int = 100
) -> list[dict[str, Any]]:
    """The newest `limit` videos of each user (Helix pages them 100 at a time)."""
    if video_type not in VIDEO_TYPES:
        raise ValueError(f"video_type must be one of {VIDEO_TYPES}, not {video_type!r}")
    videos: list[dict[str, Any]] = []
    for user_id in dict.fromkeys(ids):
        videos += await helix.videos(user_id, video_type=video_type, limit=limit)
    return videos


async def fetch_badges(
    helix: HelixClient, ids: Sequence[str], *, include_global: bool = True
) -> list[BadgeSet]:
    badge_sets = [BadgeSet("global", "", await helix.global_badges())] if include_global else []
    for broadcaster_id in dict.fromkeys(ids):
        badge_sets.append(
            BadgeSet("channel", broadcaster_id, await helix.channel_badges(broadcaster_id))
        )
    return badge_sets


# -- fetch + load ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UsersRefresh:
    result: Upsert
    missing: list[str]  # logins Helix does not know (renamed, deleted or banned)


async def refresh_users(
    conn: psycopg.Connection,
    helix: HelixClient,
    logins: Sequence[str],
    fetched_at: datetime | None = None,
) -> UsersRefresh:
    wanted = normalize_logins(logins)
    users = await fetch_users(helix, wanted)
    found = {str(u["login"]).lower() for u in users}
    missing = [x for x in wanted if x not in found]
    if missing:
        log.warning("helix.users_missing", logins=missing)
    return UsersRefresh(load_users(conn, users, fetched_at), missing)


async def refresh_channels(
    conn: psycopg.Connection,
    helix: HelixClient,
    ids: Sequence[str],
    fetched_at: datetime | None = None,
) -> Upsert:
    return load_channels(conn, await fetch_channels(helix, ids), fetched_at)


async def refresh_videos(
    conn: psycopg.Connection,
    helix: HelixClient,
    ids: Sequence[str],
    *,
    video_type: str = "archive",
    limit: int = 100,
    fetched_at: datetime | None = None,
) -> Upsert:
    videos = await fetch_videos(helix, ids, video_type=video_type, limit=limit)
    return load_videos(conn, videos, fetched_at)


async def refresh_badges(
    conn: psycopg.Connection,
    helix: HelixClient,
    ids: Sequence[str],
    *,
    include_global: bool = True,
    fetched_at: datetime | None = None,
) -> Upsert:
    badge_sets = await fetch_badges(helix, ids, include_global=include_global)
    return load_badges(conn, badge_sets, fetched_at)
