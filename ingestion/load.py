"""Load an hourly partition: parse its landing files and replace its window in one transaction.

The window is half-open, [start, end). Everything in it is deleted and re-inserted inside one
transaction, so a rerun gives identical rows and a crash leaves the previous state. Events are
COPYed (binary) into a temporary table and inserted once per (channel, event_id), keeping the
richest source when a message came from several. Rejected input goes to `raw.quarantine`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ingestion.events import ChatEvent, Reject
from ingestion.landing import LandingFile, read_lines
from ingestion.sources import SOURCE_PRIORITY, parser_for

EVENT_COLUMNS = (
    "event_id", "channel", "event_type", "sent_at", "source", "channel_id", "user_id",
    "user_login", "display_name", "body", "is_action", "emotes", "badges", "badge_info", "bits",
    "is_first_message", "reply_parent_id", "source_channel_id", "notice_kind", "target_user_id",
    "target_user_login", "target_message_id", "duration_seconds", "params", "raw_payload",
)  # fmt: skip
EVENT_TYPES = (
    "text", "text", "text", "timestamptz", "text", "text", "text", "text", "text", "text", "bool",
    "jsonb", "jsonb", "jsonb", "int4", "bool", "text", "text", "text", "text", "text", "text",
    "int4", "jsonb", "text",
)  # fmt: skip


@dataclass
class LoadResult:
    window_start: datetime
    window_end: datetime
    files: int = 0
    parsed: int = 0
    loaded: int = 0
    rejects: int = 0
    duplicates: int = 0
    opted_out: int = 0  # events of chatters in raw.chatter_optouts: dropped, never stored
    seconds: float = 0.0
    rejects_by_reason: Counter[str] = field(default_factory=Counter)
    events_by_type: dict[str, int] = field(default_factory=dict)
    files_per_hour: Counter[datetime] = field(default_factory=Counter)

    @property
    def reject_ratio(self) -> float:
        total = self.parsed + self.rejects
        return self.rejects / total if total else 0.0


def event_row(event: ChatEvent) -> tuple:
    return (
        event.event_id, event.channel, str(event.event_type), event.sent_at, event.source,
        event.channel_id, event.user_id, event.user_login, event.display_name, event.text,
        event.is_action, Jsonb([e.as_json() for e in event.emotes]), Jsonb(event.badges),
        Jsonb(event.badge_info), event.bits, event.is_first_message, event.reply_parent_id,
        event.source_channel_id, event.notice_kind, event.target_user_id,
        event.target_user_login, event.target_message_id, event.duration_seconds,
        Jsonb(event.params), event.raw,
    )  # fmt: skip


# The loader's own COPY path: jsonb cells go pre-encoded in jsonb's binary format (a version byte,
# then the JSON text), so no Jsonb wrapper or dumper runs per cell. The server reads every binary
# field with the column's own receive function, so only the client-side dumper differs.
COPY_TYPES = tuple("bytea" if t == "jsonb" else t for t in EVENT_TYPES)
_EMPTY_LIST = b"\x01[]"
_EMPTY_OBJECT = b"\x01{}"
_JSONB_CACHE: dict[tuple[tuple[str, str], ...], bytes] = {}


def _jsonb(value: Any) -> bytes:
    """jsonb's binary format, byte for byte what psycopg's Jsonb dumper sends."""
    return b"\x01" + json.dumps(value).encode()


def _jsonb_pairs(value: dict[str, str]) -> bytes:
    """Badges and badge-info repeat a lot: encode each distinct set once."""
    if not value:
        return _EMPTY_OBJECT
    key = tuple(value.items())
    data = _JSONB_CACHE.get(key)
    if data is None:
        data = _jsonb(value)
        if len(_JSONB_CACHE) < 8192:
            _JSONB_CACHE[key] = data
    return data


def copy_row(event: ChatEvent) -> tuple:
    """`event_row` for the loader's COPY (`COPY_TYPES`): same cells, jsonb pre-encoded."""
    emotes = event.emotes
    params = event.params
    return (
        event.event_id, event.channel, str(event.event_type), event.sent_at, event.source,
        event.channel_id, event.user_id, event.user_login, event.display_name, event.text,
        event.is_action,
        _jsonb([e.as_json() for e in emotes]) if emotes else _EMPTY_LIST,
        _jsonb_pairs(event.badges), _jsonb_pairs(event.badge_info), event.bits,
        event.is_first_message, event.reply_parent_id, event.source_channel_id,
        event.notice_kind, event.target_user_id, event.target_user_login,
        event.target_message_id, event.duration_seconds,
        _jsonb(params) if params else _EMPTY_OBJECT, event.raw,
    )  # fmt: skip


def ensure_day_partitions(conn: psycopg.Connection, start: datetime, end: datetime) -> None:
    """Create the daily partitions of raw.chat_events that [start, end) touches."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        nxt = day + timedelta(days=1)
        name = f"chat_events_{day:%Y%m%d}"
        conn.execute(
            sql.SQL(
                "create table if not exists raw.{} partition of raw.chat_events"
                " for values from ({}) to ({})"
            ).format(sql.Identifier(name), sql.Literal(day), sql.Literal(nxt))
        )
        day = nxt


def _opted_out(conn: psycopg.Connection) -> frozenset[str]:
    """Logins that opted out (migration 0003); their events are never stored."""
    if conn.execute("select to_regclass('raw.chatter_optouts')").fetchone()[0] is None:  # type: ignore[index]
        return frozenset()
    rows = conn.execute("select lower(user_login) from raw.chatter_optouts").fetchall()
    return frozenset(r[0] for r in rows)


def _is_opted_out(event: ChatEvent, optouts: frozenset[str]) -> bool:
    return any(
        isinstance(login, str) and login.lower() in optouts
        for login in (event.user_login, event.target_user_login)
    )


# Keys remembered to tell whether a load holds duplicates (~60 bytes each); past this many the
# loader stops remembering and deduplicates in SQL, as it does whenever a key repeats.
_MAX_TRACKED_KEYS = 4_000_000


@dataclass
class _Keys:
    """Hashes of the (channel, event_id) keys streamed so far: repeats mean SQL must dedup."""

    seen: set[int] = field(default_factory=set)
    maybe_duplicates: bool = False

    def add(self, channel: str, event_id: str) -> None:
        if self.maybe_duplicates:
            return
        key = hash((channel, event_id))  # a collision only costs the dedup sort
        if key in self.seen or len(self.seen) >= _MAX_TRACKED_KEYS:
            self.maybe_duplicates = True
            self.seen = set()
        else:
            self.seen.add(key)


def _events(
    files: Iterable[LandingFile], start: datetime, end: datetime, result: LoadResult,
    rejects: list[tuple[LandingFile, Reject]], optouts: frozenset[str] = frozenset(),
    keys: _Keys | None = None,
) -> Iterator[tuple]:  # fmt: skip
    keys = keys if keys is not None else _Keys()
    for landing in files:
        result.files += 1
        result.files_per_hour[landing.hour] += 1
        hour, hour_end = landing.hour, landing.hour + timedelta(hours=1)
        parsed = 0
        for item in parser_for(landing.source)(read_lines(landing.path)):
            if isinstance(item, Reject):
                rejects.append((landing, item))
            elif not (hour <= item.sent_at < hour_end):
                # Each landing file holds one hour; anything else would land in another window.
                reason = f"sent_at {item.sent_at.isoformat()} outside its landing file's hour"
                rejects.append((landing, Reject(item.source, item.raw.encode(), reason)))
            elif optouts and _is_opted_out(item, optouts):
                result.opted_out += 1
            else:
                parsed += 1
                keys.add(item.channel, item.event_id)
                yield copy_row(item)
        result.parsed += parsed


def _record_loads(
    conn: psycopg.Connection, start: datetime, end: datetime,
    files_per_hour: Counter[datetime], rejects_per_hour: Counter[datetime],
) -> None:  # fmt: skip
    """One raw.partition_loads row per hour of the window, even hours with nothing landed."""
    conn.execute(
        "delete from raw.partition_loads where partition_start >= %s and partition_start < %s",
        (start, end),
    )
    conn.execute(
        """insert into raw.partition_loads (partition_start, files, events, rejects)
           select hours.hour, coalesce((%s::jsonb ->> hours.hour::text)::int, 0),
                  count(events.event_id), coalesce((%s::jsonb ->> hours.hour::text)::int, 0)
           from generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour',
                                interval '1 hour') as hours (hour)
           left join raw.chat_events as events
             on events.sent_at >= hours.hour and events.sent_at < hours.hour + interval '1 hour'
           group by hours.hour""",
        (
            json.dumps({_pg_text(h): n for h, n in files_per_hour.items()}),
            json.dumps({_pg_text(h): n for h, n in rejects_per_hour.items()}),
            start, end,
        ),
    )  # fmt: skip


def _pg_text(hour: datetime) -> str:
    """An hour as PostgreSQL prints a timestamptz in a UTC session."""
    return hour.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def load_partition(
    conn: psycopg.Connection, start: datetime, end: datetime, files: Iterable[LandingFile]
) -> LoadResult:
    """Replace [start, end) of raw.chat_events with the events parsed from `files`."""
    began = time.perf_counter()
    result = LoadResult(start, end)
    rejects: list[tuple[LandingFile, Reject]] = []
    files = [f for f in files if start <= f.hour < end]
    # Only days that receive rows get a partition: a sparse multi-year backfill stays cheap.
    days = sorted({f.hour.replace(hour=0) for f in files})
    with conn.transaction():
        # Loads are serialized (a backfill and the schedule never interleave); each is short.
        conn.execute("select pg_advisory_xact_lock(hashtext('raw.chat_events'))")
        conn.execute("set local timezone to 'UTC'")
        optouts = _opted_out(conn)  # read once per load, under the lock
        for day in days:
            ensure_day_partitions(conn, day, day + timedelta(days=1))
        conn.execute(
            "create temp table incoming (like raw.chat_events including defaults) on commit drop"
        )
        column_list = sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS))
        copy_sql = sql.SQL("copy incoming ({}) from stdin (format binary)").format(column_list)
        keys = _Keys()
        with conn.cursor().copy(copy_sql) as copy:
            copy.set_types(list(COPY_TYPES))
            write_row = copy.write_row
            for row in _events(files, start, end, result, rejects, optouts, keys):
                write_row(row)
        conn.execute(
            "delete from raw.chat_events where sent_at >= %s and sent_at < %s", (start, end)
        )
        if keys.maybe_duplicates:
            insert = sql.SQL(
                "insert into raw.chat_events ({cols})"
                " select distinct on (channel, event_id) {cols} from incoming"
                " order by channel, event_id,"
                " coalesce(({priority})::jsonb ->> source, '99')::int, sent_at"
            ).format(cols=column_list, priority=sql.Literal(json.dumps(SOURCE_PRIORITY)))
        else:  # every (channel, event_id) once: nothing to choose between, no sort needed
            insert = sql.SQL("insert into raw.chat_events ({cols}) select {cols} from incoming")
            insert = insert.format(cols=column_list)
        inserted = conn.execute(insert).rowcount
        result.loaded = inserted
        result.duplicates = result.parsed - inserted
        # Rejects of landing files belong to their hour; `import` rejects (never landed) stay.
        conn.execute(
            "delete from raw.quarantine where partition_start >= %s and partition_start < %s"
            " and source <> 'import'", (start, end),
        )  # fmt: skip
        rejects_per_hour: Counter[datetime] = Counter()
        if rejects:
            with conn.cursor().copy(
                "copy raw.quarantine (partition_start, source, landing_file, line_no, channel,"
                " payload, reason) from stdin"
            ) as copy:
                for landing, rej in rejects:
                    copy.write_row((landing.hour, rej.source, str(landing.path), rej.line_no,
                                    rej.channel or landing.channel, rej.raw,
                                    rej.reason))  # fmt: skip
                    result.rejects_by_reason[rej.reason.split(":")[0]] += 1
                    rejects_per_hour[landing.hour] += 1
        result.rejects = len(rejects)
        result.events_by_type = dict(
            conn.execute(
                "select event_type, count(*) from raw.chat_events"
                " where sent_at >= %s and sent_at < %s group by 1 order by 1", (start, end),
            ).fetchall()
        )  # fmt: skip
        _record_loads(conn, start, end, result.files_per_hour, rejects_per_hour)
        # Fresh statistics for the days just replaced, so the dbt window queries plan well.
        for day in days:
            conn.execute(
                sql.SQL("analyze raw.{}").format(sql.Identifier(f"chat_events_{day:%Y%m%d}"))
            )
    result.seconds = time.perf_counter() - began
    return result
