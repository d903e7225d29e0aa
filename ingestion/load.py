"""Load an hourly partition: parse its landing files and replace its window in one transaction.

The window is half-open, [start, end). Everything in it is deleted and re-inserted inside one
transaction, so a rerun gives identical rows and a crash leaves the previous state. Events are
COPYed (binary) straight into `raw.chat_events`, once per (channel, event_id): when a message
came from several sources the richest is kept, by deleting the other copies after the COPY, or,
when two copies share the primary key (same time too) and stop the COPY, by loading again
through a temporary table. Rejected input goes to `raw.quarantine`.

Large loads parse in two processes: this one reads the landing files, hands batches of lines to
one worker process (`ingestion.parallel_parse`), parses batches itself while the worker is busy,
and writes the encoded rows to the COPY in order, so PostgreSQL works while Python parses.
`load_partition(..., parse_worker=False)` or `INGESTION_PARSE_WORKER=0` keeps it in-process.
Scripts that call the loader need the usual `if __name__ == "__main__":` guard ('spawn').
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import multiprocessing
import os
import queue
import re
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import psycopg
from psycopg import errors, sql
from psycopg.abc import Buffer
from psycopg.adapt import AdaptersMap
from psycopg.copy import LibpqWriter
from psycopg.types.json import Jsonb
from psycopg.types.string import BytesBinaryDumper

from ingestion.events import ChatEvent, Reject, reason_kind
from ingestion.landing import LandingFile, files_for_window, hour_floor, read_lines
from ingestion.sources import SOURCE_PRIORITY, parser_for

log = logging.getLogger(__name__)

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
    events_by_channel: dict[str, dict[str, int]] = field(default_factory=dict)  # by type
    files_per_hour: Counter[datetime] = field(default_factory=Counter)
    # Built hours outside the window that lost a worse copy of an event kept in the window.
    neighbour_hours_changed: list[datetime] = field(default_factory=list)
    # Hours of the window whose stored events differ from their previous load (or first load).
    hours_changed: list[datetime] = field(default_factory=list)

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


def use_copy_dumpers(adapters: AdaptersMap) -> None:
    """Dump the pre-encoded jsonb cells (`bytes`, typed bytea) with psycopg's own C dumper.

    `psycopg.dbapi20` registers its bytea dumper last (a Python one that also takes `Binary`
    objects), so `set_types` would pick it; this one writes the same bytes, twice as fast.
    """
    adapters.register_dumper(bytes, BytesBinaryDumper)


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


@dataclass(frozen=True, slots=True)
class OptOuts:
    """Chatters whose events are never stored: by login, and by Twitch user id so that a renamed
    account stays out (`raw.chatter_optouts`, migrations 0003 and 0012).

    Twitch frees a login for reuse, so a login whose owner's user ids are known (`id_bound`)
    matches only events without a user id (text logs); an event carrying another id under that
    login is by the account that took the login later, and is kept."""

    logins: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()
    id_bound: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.logins or self.user_ids)

    def covers(self, event: ChatEvent) -> bool:
        """Whether the event is by or about an opted-out chatter."""
        return any(
            self._matches(login, user_id)
            for login, user_id in (
                (event.user_login, event.user_id),
                (event.target_user_login, event.target_user_id),
            )
        )

    def _matches(self, login: str | None, user_id: str | None) -> bool:
        if user_id and user_id in self.user_ids:
            return True
        if not isinstance(login, str) or (login := login.lower()) not in self.logins:
            return False
        return not user_id or login not in self.id_bound

    def named_in(self, line: bytes) -> bool:
        """Whether an unparseable line names an opted-out login (as `forget` matches quarantine)."""
        return bool(self.logins) and bool(_optout_words(self.logins).search(line.lower()))

    def drops(self, item: ChatEvent | Reject) -> bool:
        """Whether a parsed line stays out of the warehouse: an event by or about an opted-out
        chatter, or an unparseable line naming one (its quarantine row would hold it whole)."""
        return self.named_in(item.raw) if isinstance(item, Reject) else self.covers(item)


NO_OPTOUTS = OptOuts()


def read_optouts(conn: psycopg.Connection) -> OptOuts:
    """The opt-out list; their events are never stored."""
    if conn.execute("select to_regclass('raw.chatter_optouts')").fetchone()[0] is None:  # type: ignore[index]
        return NO_OPTOUTS
    rows = conn.execute("select lower(user_login), user_ids from raw.chatter_optouts").fetchall()
    return OptOuts(
        logins=frozenset(login for login, _ in rows),
        user_ids=frozenset(i for _, ids in rows for i in ids),
        id_bound=frozenset(login for login, ids in rows if ids),
    )


def word_pattern(*logins: str) -> str:
    """A regex (Python and PostgreSQL ARE syntax alike) matching any of `logins` (lower case)
    as a whole word."""
    return r"(^|[^a-z0-9_])(?:" + "|".join(map(re.escape, logins)) + r")([^a-z0-9_]|$)"


@functools.lru_cache(maxsize=4)
def _optout_words(logins: frozenset[str]) -> re.Pattern[bytes]:
    return re.compile(word_pattern(*sorted(logins)).encode())


# Keys remembered to tell whether a load holds duplicates (~60 bytes each); past this many the
# loader stops remembering and deduplicates in SQL, as it does whenever a key repeats.
@dataclass
class _Keys:
    """Hashes of the (channel, event_id) keys streamed so far (8 bytes each: 48 MB for an
    all-Twitch hour), to tell afterwards whether any event came twice."""

    hashes: array = field(default_factory=lambda: array("q"))

    def add(self, channel: str, event_id: str) -> None:
        self.hashes.append(hash((channel, event_id)))  # a collision only costs a dedup pass

    def has_repeats(self) -> bool:
        keys = np.frombuffer(self.hashes, dtype=np.int64).copy()
        keys.sort()  # in place: one copy of the hashes, where np.unique holds three
        return bool((keys[1:] == keys[:-1]).any())


class _KeySink(Protocol):
    def add(self, channel: str, event_id: str) -> None: ...


@dataclass
class _Tally:
    parsed: int = 0
    opted_out: int = 0


def _accept(
    items: Iterable[ChatEvent | Reject], hour: datetime, optouts: OptOuts, keys: _KeySink,
    reject: Callable[[Reject], None], tally: _Tally,
) -> Iterator[ChatEvent]:  # fmt: skip
    """The events of one landing file that are stored; the same in the loader and its worker."""
    hour_end = hour + timedelta(hours=1)
    for item in items:
        # An opted-out chatter's lines are kept out of quarantine too: its rows hold whole lines.
        if optouts and optouts.drops(item):
            tally.opted_out += 1
        elif isinstance(item, Reject):
            reject(item)
        elif not (hour <= item.sent_at < hour_end):
            # Each landing file holds one hour; anything else would land in another window.
            reason = f"outside its landing file's hour: sent_at {item.sent_at.isoformat()}"
            reject(Reject(item.source, item.raw.encode(), reason))
        else:
            tally.parsed += 1
            keys.add(item.channel, item.event_id)
            yield item


def _landing_lines(landing: LandingFile, rejects: _Rejects) -> Iterator[bytes]:
    """A landing file's lines. A gzip file cut short or corrupt keeps the lines before the damage
    and puts one quarantine row in place of the rest, so the hour still loads."""
    line_no = 0
    try:
        for line in read_lines(landing.path):
            line_no += 1
            yield line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = f"unreadable gzip after line {line_no}: {exc}"
        rejects.append((landing, Reject(landing.source, b"", reason, line_no=line_no + 1)))


def _events(
    files: Iterable[LandingFile], start: datetime, end: datetime, result: LoadResult,
    rejects: list[tuple[LandingFile, Reject]], optouts: OptOuts = NO_OPTOUTS,
    keys: _Keys | None = None,
    lines_of: Callable[[int, LandingFile], Iterable[bytes]] | None = None,
) -> Iterator[tuple]:  # fmt: skip
    """COPY rows of `files`, parsed here; `lines_of(index, file)` gives lines already read."""
    keys = keys if keys is not None else _Keys()
    for index, landing in enumerate(files):
        result.files += 1
        result.files_per_hour[landing.hour] += 1
        lines = _landing_lines(landing, rejects) if lines_of is None else lines_of(index, landing)
        tally = _Tally()

        def reject(item: Reject, landing: LandingFile = landing) -> None:
            rejects.append((landing, item))

        items = parser_for(landing.source)(lines)
        for event in _accept(items, landing.hour, optouts, keys, reject, tally):
            yield copy_row(event)
        result.parsed += tally.parsed
        result.opted_out += tally.opted_out


# Past this many landing lines a load parses in a worker process (`ingestion.parallel_parse`)
# while this process streams the COPY; smaller loads stay in-process (no start-up cost).
PARSE_WORKER_MIN_LINES = 20_000
PARSE_WORKER_NAME = "ingestion-parse-worker"
PARSE_WORKER_ENV = "INGESTION_PARSE_WORKER"  # "0": never a worker, "1": always, else by size
_BATCH_LINES = 10_000  # lines a batch: parsed here or by the worker as a unit
_IN_FLIGHT = 2  # batches at the worker at most (and as many parsed here waiting behind them)


def _parse_worker_mode(parse_worker: bool | None) -> bool | None:
    """True/False: forced by the argument or `PARSE_WORKER_ENV`; None: decided by size."""
    if parse_worker is not None:
        return parse_worker
    value = os.environ.get(PARSE_WORKER_ENV, "").strip().lower()
    if value in {"0", "false", "no", "off"}:
        return False
    if value in {"1", "true", "yes", "on"}:
        return True
    return None


def _line_batches(
    files: list[LandingFile], batch_lines: int, rejects: _Rejects
) -> Iterator[list[tuple[int, list[bytes], bool]]]:
    """The files' lines in batches of (file index, lines, file ends here) segments, read here.

    A batch closes at the end of the file that brings it to `batch_lines` lines, so that most
    batches hold whole files (which the loader may parse itself); a file alone past twice that
    is cut, its next segments open the next batches. Batches are yielded as soon as they close:
    reading never runs far ahead.
    """
    batch: list[tuple[int, list[bytes], bool]] = []
    count = 0
    for index, landing in enumerate(files):
        lines: list[bytes] = []
        append = lines.append
        for line in _landing_lines(landing, rejects):
            append(line)
            count += 1
            if count >= 2 * batch_lines:
                batch.append((index, lines, False))
                yield batch
                batch, lines, count = [], [], 0
                append = lines.append
        batch.append((index, lines, True))
        if count >= batch_lines:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _stream_events(
    copy: psycopg.Copy, *, files: list[LandingFile], start: datetime, end: datetime,
    result: LoadResult, rejects: _Rejects, optouts: OptOuts, keys: _Keys,
    parse_worker: bool | None,
) -> None:  # fmt: skip
    """Parse `files` and write their rows to the open binary `copy`, in file and line order."""
    mode = _parse_worker_mode(parse_worker)
    if mode is not False:
        from ingestion import parallel_parse

        if not parallel_parse.worker_allowed() or copy.connection.info.encoding != "utf-8":
            log.debug("no parse worker here (one core, daemonic process or non-UTF-8 client)")
            mode = False
    if mode is False:
        write_row = copy.write_row
        for row in _events(files, start, end, result, rejects, optouts, keys):
            write_row(row)
        return
    batches = _line_batches(
        files, PARSE_WORKER_MIN_LINES if mode is None else _BATCH_LINES, rejects
    )
    first = next(batches, [])
    if not first or (
        mode is None and sum(len(lines) for _, lines, _ in first) < PARSE_WORKER_MIN_LINES
    ):
        # Everything is read and it is small: parse it here, from the lines in hand.
        buffered = {index: lines for index, lines, _ in first}
        write_row = copy.write_row
        for row in _events(files, start, end, result, rejects, optouts, keys,
                           lambda index, _landing: buffered.get(index, ())):  # fmt: skip
            write_row(row)
        return
    from itertools import chain

    from ingestion import parallel_parse

    def apply(batch: parallel_parse.BatchResult) -> None:
        if batch.data:
            copy.write(batch.data)
        result.parsed += batch.parsed
        result.opted_out += batch.opted_out
        rejects.extend((files[index], item) for index, item in batch.rejects)
        for channel, event_id in batch.keys:
            keys.add(channel, event_id)

    spec = parallel_parse.WorkerSpec([(f.source, f.hour) for f in files], optouts)
    copy.write(parallel_parse.BINARY_SIGNATURE)  # block mode: whole binary-COPY rows follow
    parallel_parse.parse_alongside(spec, chain([first], batches), apply, _IN_FLIGHT)
    copy.write(parallel_parse.BINARY_TRAILER)
    for landing in files:
        result.files += 1
        result.files_per_hour[landing.hour] += 1


def _count_events(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> tuple[dict[str, int], dict[datetime, int], dict[str, dict[str, int]]]:
    """The window's stored events by type, by hour of the window and by channel and type, in one
    pass."""
    by_type: dict[str, int] = {}
    by_hour: dict[datetime, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        "select event_type, date_bin('1 hour', sent_at, %s::timestamptz), channel, count(*)"
        " from raw.chat_events where sent_at >= %s and sent_at < %s group by 1, 2, 3 order by 1",
        (start, start, end),
    ).fetchall()
    for event_type, hour, channel, count in rows:
        by_type[event_type] = by_type.get(event_type, 0) + count
        by_hour[hour] = by_hour.get(hour, 0) + count
        types = by_channel.setdefault(channel, {})
        types[event_type] = types.get(event_type, 0) + count
    return by_type, by_hour, by_channel


# An hour's digest: md5 over the sorted md5s of its stored events, every column but the load
# time. Equal digests, equal rows. `{where}`: which events.
_HOUR_DIGESTS = """
    select date_bin('1 hour', sent_at, timestamptz '2000-01-01 00:00:00+00') as hour,
        md5(string_agg(digest, '' order by digest)) as digest
    from (select sent_at, md5(row({columns})::text) as digest from raw.chat_events {where})
        as events
    group by 1
"""
_COLUMNS_TEXT = ", ".join(EVENT_COLUMNS)
_CONTENT_HASHES = sql.SQL(_HOUR_DIGESTS.format(
    columns=_COLUMNS_TEXT, where="where sent_at >= %s and sent_at < %s"
))  # fmt: skip
# The digests of every loaded hour, from its stored rows (migration 0013, for hours loaded
# before digests were kept).
FILL_CONTENT_HASHES = f"""
    update raw.partition_loads as loads set content_hash = stored.digest
    from ({_HOUR_DIGESTS.format(columns=_COLUMNS_TEXT, where="")}) as stored
    where loads.partition_start = stored.hour
"""  # noqa: S608 (constant column names)


def _content_hashes(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> dict[datetime, str]:
    """A digest of each hour's stored events (every column but the load time), for the hours of
    [start, end) that have any: equal digests, equal rows."""
    return dict(conn.execute(_CONTENT_HASHES, (start, end)).fetchall())


def _record_loads(
    conn: psycopg.Connection, start: datetime, end: datetime,
    files_per_hour: Counter[datetime], rejects_per_hour: Counter[datetime],
    events_per_hour: dict[datetime, int], hashes: dict[datetime, str],
) -> list[datetime]:  # fmt: skip
    """One raw.partition_loads row per hour of the window, even hours with nothing landed;
    returns the hours whose events differ from their previous load (a first load of events
    included)."""
    previous = dict(conn.execute(
        "delete from raw.partition_loads where partition_start >= %s and partition_start < %s"
        " returning partition_start, content_hash", (start, end),
    ).fetchall())  # fmt: skip
    conn.execute(
        """insert into raw.partition_loads (partition_start, files, events, rejects, content_hash)
           select hours.hour, coalesce((%s::jsonb ->> hours.hour::text)::int, 0),
                  coalesce(counted.events, 0),
                  coalesce((%s::jsonb ->> hours.hour::text)::int, 0),
                  %s::jsonb ->> hours.hour::text
           from generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour',
                                interval '1 hour') as hours (hour)
           left join unnest(%s::timestamptz[], %s::bigint[]) as counted (hour, events)
             on counted.hour = hours.hour""",
        (
            json.dumps({_pg_text(h): n for h, n in files_per_hour.items()}),
            json.dumps({_pg_text(h): n for h, n in rejects_per_hour.items()}),
            json.dumps({_pg_text(h): digest for h, digest in hashes.items()}),
            start, end, list(events_per_hour), list(events_per_hour.values()),
        ),
    )  # fmt: skip
    return sorted(hour for hour in {*previous, *hashes} if previous.get(hour) != hashes.get(hour))


def _pg_text(hour: datetime) -> str:
    """An hour as PostgreSQL prints a timestamptz in a UTC session."""
    return hour.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")


_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS))
# The row kept when an event came from several sources: the richest source, then the earliest.
_SOURCE_ORDER = sql.SQL("coalesce(({})::jsonb ->> source, '99')::int").format(
    sql.Literal(json.dumps(SOURCE_PRIORITY))
)
_SOURCE_RANK = sql.SQL("{}, sent_at").format(_SOURCE_ORDER)
_Rejects = list[tuple[LandingFile, Reject]]


class _Stream(Protocol):
    def __call__(
        self, copy: psycopg.Copy, *, result: LoadResult, rejects: _Rejects, keys: _Keys
    ) -> None: ...


class _BackgroundWriter(LibpqWriter):
    """Sends the COPY data from a thread, so the loader's thread never waits on the socket.

    Without it, writing a parsed batch blocks the loader until PostgreSQL has taken it, and
    meanwhile the worker runs dry: the loader feeds it too. `write` queues the data (in chunks,
    at most `_QUEUED_CHUNKS` of them, so memory stays bounded when PostgreSQL is the slower
    side) and returns; the thread is the only user of the connection until `finish`. The
    data written must not change afterwards (the loader writes `bytes`; psycopg hands over
    its row buffers).
    """

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        super().__init__(cursor)
        self._chunks: queue.Queue[memoryview | None] = queue.Queue(_QUEUED_CHUNKS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _send(self) -> None:
        try:
            while (chunk := self._chunks.get()) is not None:
                super().write(chunk)
        except BaseException as exc:  # raised in the loader's thread by `write` or `finish`
            self._error = exc
            while self._chunks.get() is not None:  # keep `write` from blocking on a full queue
                pass

    def write(self, data: Buffer) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._send, name="copy-writer", daemon=True)
            self._thread.start()
        view = memoryview(data)
        for at in range(0, len(view), _CHUNK_BYTES):
            self._chunks.put(view[at : at + _CHUNK_BYTES])

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._chunks.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None and exc is None:
            raise self._error
        super().finish(exc)


_CHUNK_BYTES = 128 * 1024  # psycopg's own largest piece for one put_copy_data
_QUEUED_CHUNKS = 256  # at most 32 MiB waiting for the socket


def _copy_into(
    conn: psycopg.Connection, table: sql.Composable, start: datetime, end: datetime,
    stream: _Stream,
) -> tuple[LoadResult, _Rejects, _Keys]:  # fmt: skip
    result, rejects, keys = LoadResult(start, end), [], _Keys()
    copy_sql = sql.SQL("copy {} ({}) from stdin (format binary)").format(table, _COLUMN_LIST)
    cursor = conn.cursor()
    use_copy_dumpers(cursor.adapters)  # the cursor's own map: the connection's stays as it is
    with cursor.copy(copy_sql, writer=_BackgroundWriter(cursor)) as copy:
        copy.set_types(list(COPY_TYPES))
        stream(copy, result=result, rejects=rejects, keys=keys)
    return result, rejects, keys


def _copy_direct(
    conn: psycopg.Connection, start: datetime, end: datetime, stream: _Stream
) -> tuple[LoadResult, _Rejects]:
    """COPY straight into `raw.chat_events`; an event that came twice (at different times, or
    the primary key would have stopped the COPY) then keeps only its best row."""
    result, rejects, keys = _copy_into(conn, sql.SQL("raw.chat_events"), start, end, stream)
    result.loaded = result.parsed
    if keys.has_repeats():
        result.duplicates = conn.execute(
            sql.SQL(
                "delete from raw.chat_events as events using ("
                " select tableoid, ctid, row_number() over ("
                "  partition by channel, event_id order by {rank}) as kept_rank"
                " from raw.chat_events where sent_at >= %s and sent_at < %s) as ranked"
                " where events.sent_at >= %s and events.sent_at < %s"
                " and events.tableoid = ranked.tableoid and events.ctid = ranked.ctid"
                " and ranked.kept_rank > 1"
            ).format(rank=_SOURCE_RANK),
            (start, end, start, end),
        ).rowcount
        result.loaded -= result.duplicates
    return result, rejects


def _copy_through_staging(
    conn: psycopg.Connection, start: datetime, end: datetime, stream: _Stream
) -> tuple[LoadResult, _Rejects]:
    """COPY into a temporary table, then insert each (channel, event_id) once."""
    conn.execute(
        "create temp table incoming (like raw.chat_events including defaults) on commit drop"
    )
    result, rejects, _ = _copy_into(conn, sql.Identifier("incoming"), start, end, stream)
    result.loaded = conn.execute(
        sql.SQL(
            "insert into raw.chat_events ({cols})"
            " select distinct on (channel, event_id) {cols} from incoming"
            " order by channel, event_id, {rank}"
        ).format(cols=_COLUMN_LIST, rank=_SOURCE_RANK)
    ).rowcount
    result.duplicates = result.parsed - result.loaded
    return result, rejects


# Two sources stamp one message with clocks seconds apart (IRC `tmi-sent-ts`, EventSub
# `message_timestamp`, a VOD export's `createdAt`), so its copies can fall either side of an hour.
EDGE_MARGIN = timedelta(minutes=5)
_EDGE_COPIES = sql.SQL("""
    delete from raw.chat_events as events using (
        select tableoid, ctid, row_number() over (
            partition by channel, event_id order by {rank}) as kept_rank
        from raw.chat_events
        where sent_at >= %(lo)s and sent_at < %(hi)s and (channel, event_id) in (
            select channel, event_id from raw.chat_events
            where (sent_at >= %(lo)s and sent_at < %(start)s)
                or (sent_at >= %(end)s and sent_at < %(hi)s))
    ) as ranked
    where events.sent_at >= %(lo)s and events.sent_at < %(hi)s
        and events.tableoid = ranked.tableoid and events.ctid = ranked.ctid
        and ranked.kept_rank > 1
    returning events.sent_at
""").format(rank=_SOURCE_RANK)


# One timeout, ban or clear seen by two sources (IRC's CLEARCHAT and EventSub's channel.moderate):
# their ids hash each source's own clock, so they never share a key. A copy is an action of the
# same kind on the same chatter from another source within `MODERATION_COPY_SECONDS`; a BAN that
# EventSub could not tell from a timeout (`kind_unknown`) matches either. Each copy pairs with
# one better row, nearest in time, and only mutually nearest pairs count, so two real actions
# seconds apart are not taken for copies of one seen by a single other source. The better row:
# a known kind, then the better source, as for messages.
MODERATION_COPY_SECONDS = 2
_MODERATION_COPIES = sql.SQL("""
    with actions as (
        select tableoid, ctid, channel, event_id, event_type, source, sent_at,
            coalesce(target_user_login, '') as target,
            (params ->> 'kind_unknown' = 'true') is true as is_kind_unknown,
            {source_order} as source_rank
        from raw.chat_events
        where sent_at >= %(lo)s and sent_at < %(hi)s
            and event_type in ('timeout', 'ban', 'clear')
    ),

    pairs as (
        select
            copy.tableoid, copy.ctid, copy.sent_at, copy.source as copy_source,
            copy.event_id, kept.tableoid as kept_tableoid, kept.ctid as kept_ctid,
            kept.event_id as kept_event_id,
            abs(extract(epoch from copy.sent_at - kept.sent_at)) as apart
        from actions as copy
        inner join actions as kept
            on copy.channel = kept.channel
            and copy.target = kept.target
            and kept.sent_at between copy.sent_at - make_interval(secs => %(seconds)s)
                and copy.sent_at + make_interval(secs => %(seconds)s)
            and copy.source <> kept.source
            and (copy.event_type = kept.event_type
                 or (copy.event_type in ('timeout', 'ban') and kept.event_type in ('timeout', 'ban')
                     and (copy.is_kind_unknown or kept.is_kind_unknown)))
            and (kept.is_kind_unknown, kept.source_rank, kept.sent_at, kept.event_id)
                < (copy.is_kind_unknown, copy.source_rank, copy.sent_at, copy.event_id)
    ),

    mutual as (
        select tableoid, ctid, sent_at
        from (
            select pairs.*,
                row_number() over (partition by tableoid, ctid order by apart, kept_event_id)
                    as kept_choice,
                row_number() over (partition by kept_tableoid, kept_ctid, copy_source
                                   order by apart, event_id) as copy_choice
            from pairs
        ) as ranked
        where kept_choice = 1 and copy_choice = 1
    )

    delete from raw.chat_events as events using mutual
    where events.sent_at >= %(lo)s and events.sent_at < %(hi)s
        and events.tableoid = mutual.tableoid and events.ctid = mutual.ctid
    returning events.sent_at
""").format(source_order=_SOURCE_ORDER)


def _drop_copies_across_edges(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> tuple[int, Counter[datetime]]:
    """Keep one copy of each message whose copies straddle the window's edges (the best, as
    inside a window), wherever it lies, and one of each moderation action two sources saw;
    returns the copies dropped inside the window and, per neighbouring hour, outside it.
    The rows are then the same whichever hours were loaded together, and in whatever order."""
    params = {"start": start, "end": end, "lo": start - EDGE_MARGIN, "hi": end + EDGE_MARGIN,
              "seconds": MODERATION_COPY_SECONDS}  # fmt: skip
    dropped = [at for (at,) in conn.execute(_EDGE_COPIES, params).fetchall()]
    dropped += [at for (at,) in conn.execute(_MODERATION_COPIES, params).fetchall()]
    outside = Counter(hour_floor(at) for at in dropped if not start <= at < end)
    return len(dropped) - outside.total(), outside


# How far the scores of later hours read back into an hour's chat: hype features 6 h 15 min
# (`ml.hype.FEATURE_HISTORY`), emote-burst baselines 150 active minutes (to two days back on a
# sparse channel; the bursts asset notes the hours whose bursts it sees move). The built hours
# this far after an hour whose events changed were scored on the old chat.
LATER_HOURS_READ_BACK = timedelta(hours=7)


def mark_stale_hours(conn: psycopg.Connection, hours: Iterable[datetime]) -> None:
    """Note built hours whose inputs changed without a load of theirs (an earlier hour they read
    changed, a copy of an event dropped by a neighbouring load, an emote catalog that now covers
    them, their week's model history changed): their scores and marts are stale until the hour
    is loaded again (`stale_hours`). The note holds the latest change, so each change asks for
    its own rerun."""
    # Under the loader's lock: a load rewrites its own rows of this table, then marks others.
    conn.execute("select pg_advisory_xact_lock(hashtext('raw.chat_events'))")
    conn.execute(
        "update raw.partition_loads set stale_since = now()"
        " where partition_start = any(%s)", (list(hours),),
    )  # fmt: skip


def stale_hours(conn: psycopg.Connection) -> list[tuple[datetime, datetime]]:
    """(hour, stale since) for built hours whose inputs changed since, oldest hour first;
    loading the hour again clears its note."""
    return [(hour, at) for hour, at in conn.execute(
        "select partition_start, stale_since from raw.partition_loads"
        " where stale_since is not null order by partition_start"
    ).fetchall()]  # fmt: skip


def hours_landed_after_load(
    conn: psycopg.Connection, root: Path, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """(hour, newest file's mtime) for hours in [start, end) with landing files that were never
    loaded, or changed after the hour's last load: what a schedule missed while its daemon was
    down, and files landed late (a log API fetch, a copy into the landing zone). An hour loaded
    from more files than it has now (one was withdrawn) is there too, with its load's time."""
    newest: dict[datetime, float] = {}
    present: Counter[datetime] = Counter()
    for landed in files_for_window(root, start, end):
        newest[landed.hour] = max(newest.get(landed.hour, 0.0), landed.path.stat().st_mtime)
        present[landed.hour] += 1
    pending: dict[datetime, float] = {}
    loads = conn.execute(
        "select partition_start, loaded_at, files from raw.partition_loads"
        " where partition_start >= %s and partition_start < %s", (start, end),
    ).fetchall()  # fmt: skip
    loaded = {hour: (at, files) for hour, at, files in loads}
    for hour, mtime in newest.items():
        if hour not in loaded or loaded[hour][0].timestamp() < mtime:
            pending[hour] = mtime
    for hour, (at, files) in loaded.items():
        if files > present[hour]:
            pending.setdefault(hour, at.timestamp())
    return sorted(pending.items())


def load_partition(
    conn: psycopg.Connection, start: datetime, end: datetime, files: Iterable[LandingFile],
    *, parse_worker: bool | None = None,
) -> LoadResult:  # fmt: skip
    """Replace [start, end) of raw.chat_events with the events parsed from `files`.

    `parse_worker`: parse in a worker process while this one streams the COPY (True), here
    (False), or by size (None: past `PARSE_WORKER_MIN_LINES` lines; `PARSE_WORKER_ENV` can
    force either). Both store the same rows.
    """
    if multiprocessing.current_process().name == PARSE_WORKER_NAME:
        # spawn re-runs the calling script in the worker: without the guard it would load again
        # (and wait on this load's lock forever).
        raise RuntimeError(
            "load_partition ran inside its own parse worker: guard the calling script's entry"
            " point with `if __name__ == '__main__':` (see multiprocessing's 'spawn')"
        )
    began = time.perf_counter()
    files = [f for f in files if start <= f.hour < end]
    # Only days that receive rows get a partition: a sparse multi-year backfill stays cheap.
    days = sorted({f.hour.replace(hour=0) for f in files})
    with conn.transaction():
        # Loads are serialized (a backfill and the schedule never interleave); each is short.
        conn.execute("select pg_advisory_xact_lock(hashtext('raw.chat_events'))")
        conn.execute("set local timezone to 'UTC'")
        optouts = read_optouts(conn)  # read once per load, under the lock
        for day in days:
            ensure_day_partitions(conn, day, day + timedelta(days=1))
        conn.execute(
            "delete from raw.chat_events where sent_at >= %s and sent_at < %s", (start, end)
        )
        stream = functools.partial(
            _stream_events, files=files, start=start, end=end, optouts=optouts,
            parse_worker=parse_worker,
        )  # fmt: skip
        try:
            with conn.transaction():  # a savepoint: a key violation undoes only this COPY
                result, rejects = _copy_direct(conn, start, end, stream)
        except errors.UniqueViolation:
            # Two sources gave an event the same key and time: load through a table that chooses.
            result, rejects = _copy_through_staging(conn, start, end, stream)
        inside, outside = _drop_copies_across_edges(conn, start, end)
        result.loaded -= inside
        result.duplicates += inside + outside.total()
        result.neighbour_hours_changed = sorted(outside)
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
                    result.rejects_by_reason[reason_kind(rej.reason)] += 1
                    rejects_per_hour[landing.hour] += 1
        result.rejects = len(rejects)
        result.events_by_type, events_per_hour, result.events_by_channel = _count_events(
            conn, start, end
        )
        result.hours_changed = _record_loads(
            conn, start, end, result.files_per_hour, rejects_per_hour, events_per_hour,
            _content_hashes(conn, start, end),
        )  # fmt: skip
        # A copy dropped from the hour before moves first-seen times of its chatter into this
        # window, which this run builds before that hour's rerun moves them: rerun both, together.
        gained = [start] if any(hour < start for hour in outside) else []
        # Later hours read back into a changed one: built before the change, they are stale.
        # Hours of this window run now.
        followers: list[datetime] = []
        if result.hours_changed:
            reach = result.hours_changed[-1] + timedelta(hours=1) + LATER_HOURS_READ_BACK
            followers = [
                end + timedelta(hours=h) for h in range((reach - end) // timedelta(hours=1))
            ]
        mark_stale_hours(conn, [*outside, *gained, *followers])
        # Fresh statistics for the days just replaced, so the dbt window queries plan well.
        for day in days:
            conn.execute(
                sql.SQL("analyze raw.{}").format(sql.Identifier(f"chat_events_{day:%Y%m%d}"))
            )
    result.seconds = time.perf_counter() - began
    return result
