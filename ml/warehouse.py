"""Read model inputs from the warehouse and write model outputs back, window by window.

Every writer replaces exactly its own rows (an hourly window, or the whole table for the daily
models) in one transaction, so a rerun gives the same rows and a crash leaves the previous ones.
Inputs are read in a fixed order: a reloaded hour changes the tables' physical row order, and
order-sensitive fits (NMF's vocabulary, k-means' first centres) must not see that.
The models themselves live in the other `ml` modules and know nothing about PostgreSQL.
"""

from __future__ import annotations

import collections
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString, NamedTuple, TypedDict, cast

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from ingestion.landing import hour_floor
from ingestion.load import mark_stale_hours
from ml.streams import SESSION_GAP, starts_stream
from twitch_warehouse.privacy import ERASURE_LOCK

BATCH_SIZE = 50_000


@dataclass
class WriteResult:
    rows: int = 0
    seconds: float = 0.0
    model_version: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


def read_frame(
    conn: psycopg.Connection, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        columns = [d.name for d in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def _copy_rows(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Any) -> None:
    schema, name = table.split(".")
    statement = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier(schema), sql.Identifier(name),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )  # fmt: skip
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _lock_for_write(conn: psycopg.Connection, table: str) -> None:
    """Until commit: no erasure runs meanwhile (a `forget` would miss rows read before it and
    written after), and other writers of `table` wait."""
    conn.execute("select pg_advisory_xact_lock_shared(hashtext(%s))", (ERASURE_LOCK,))
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (table,))


def _delete(
    conn: psycopg.Connection, table: str, where: LiteralString, params: Sequence[Any],
    returning: LiteralString | None = None,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """The first step of every write: runs writing one table at once (a backfill beside the
    schedule) take turns until commit, so the second's delete sees the first's rows. Returns
    the `returning` columns of the deleted rows."""
    _lock_for_write(conn, table)
    schema, name = table.split(".")
    statement = sql.SQL("delete from {}.{} where ").format(
        sql.Identifier(schema), sql.Identifier(name)
    ) + sql.SQL(where)
    if returning is None:
        conn.execute(statement, params)
        return []
    return conn.execute(statement + sql.SQL(" returning " + returning), params).fetchall()


def _clear_message_window(
    conn: psycopg.Connection, table: str, start: datetime, end: datetime
) -> None:
    """Delete a per-message table's [start, end), and the rows a neighbouring hour holds for a
    message now in it: a load keeps the best of a message's copies, which may sit across the
    hour's edge from the copy an earlier run scored (`ingestion.load.EDGE_MARGIN` apart)."""
    from ingestion.load import EDGE_MARGIN

    _delete(conn, table, "sent_at >= %s and sent_at < %s", (start, end))
    schema, name = table.split(".")
    conn.execute(
        sql.SQL("""
            delete from {}.{} as scored using staging.stg_raw__chat_events as events
            where events.sent_at >= %(start)s and events.sent_at < %(end)s
                and events.event_type = 'message'
                and scored.sent_at >= %(lo)s and scored.sent_at < %(hi)s
                and scored.channel = events.channel and scored.event_id = events.event_id
        """).format(sql.Identifier(schema), sql.Identifier(name)),
        {"start": start, "end": end, "lo": start - EDGE_MARGIN, "hi": end + EDGE_MARGIN},
    )


def _replace(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    where: LiteralString,
    params: Sequence[Any],
    returning: LiteralString | None = None,
) -> list[tuple[Any, ...]]:
    """Replace the rows `where` selects with `frame`; returns `_delete`'s `returning` rows."""
    replaced = _delete(conn, table, where, params, returning)
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    _copy_rows(conn, table, list(frame.columns), rows)
    _analyze(conn, table)
    return replaced


def _analyze(conn: psycopg.Connection, table: str) -> None:
    """Fresh statistics after a write, so the dbt models reading it plan well."""
    schema, name = table.split(".")
    conn.execute(sql.SQL("analyze {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------
# Per-message scores (hourly): sentiment and toxicity
# ---------------------------------------------------------------------------------------------


# Past one batch, batches are scored in worker processes while this one reads and writes: the
# scorers are pure Python/NumPy and hold one core each. `ML_SCORE_WORKERS=0` scores in-process.
SCORE_WORKERS_ENV = "ML_SCORE_WORKERS"
DEFAULT_SCORE_WORKERS = 2

Scorer = Callable[[list[str]], list[tuple[Any, ...]]]
Rows = list[tuple[Any, ...]]


def _score_workers() -> int:
    """Worker processes for scoring: none where the loader's parse worker is not allowed
    either (one core, or a daemonic process, which may not start children)."""
    from ingestion.parallel_parse import worker_allowed

    if not worker_allowed():
        return 0
    return max(0, int(os.environ.get(SCORE_WORKERS_ENV, DEFAULT_SCORE_WORKERS)))


def _scored_batches(batches: Iterator[Rows], score: Scorer) -> Iterator[tuple[Rows, Rows]]:
    """(rows, scores) per batch, in order. From the second batch on, scoring moves to a pool of
    spawned processes (spawn: the caller may run threads, which fork would copy mid-lock)."""
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None)
    workers = _score_workers()
    if second is None or workers == 0:
        for rows in itertools.chain([first] if second is None else [first, second], batches):
            yield rows, score([r[3] for r in rows])
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: collections.deque[tuple[Rows, Future[Rows]]] = collections.deque()
        for rows in itertools.chain([first, second], batches):
            pending.append((rows, pool.submit(score, [r[3] for r in rows])))
            if len(pending) > workers:  # one batch waiting per worker: memory stays bounded
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def score_messages_window(
    conn: psycopg.Connection,
    start: datetime,
    end: datetime,
    *,
    table: str,
    columns: Sequence[str],
    score: Scorer,
    model_version: str,
) -> WriteResult:
    """Stream the window's messages from staging in batches, score, replace the window.

    `score` must be a module-level function: large windows score in worker processes.
    """
    began = time.perf_counter()
    result = WriteResult(model_version=model_version)
    names = ["channel", "event_id", "sent_at", *columns, "model_version"]
    with conn.transaction():
        _clear_message_window(conn, table, start, end)
        with conn.cursor(name=f"read_{table.replace('.', '_')}") as read:
            read.itersize = BATCH_SIZE
            read.execute(
                "select channel, event_id, sent_at, coalesce(body, '')"
                " from staging.stg_raw__chat_events"
                " where event_type = 'message' and sent_at >= %s and sent_at < %s",
                (start, end),
            )
            batches = iter(lambda: read.fetchmany(BATCH_SIZE), [])
            for rows, scored in _scored_batches(batches, score):
                out = (
                    (r[0], r[1], r[2], *s, model_version) for r, s in zip(rows, scored, strict=True)
                )
                _copy_rows(conn, table, names, out)
                result.rows += len(rows)
        _analyze(conn, table)
    result.seconds = time.perf_counter() - began
    return result


def sentiment_rows(texts: list[str]) -> Rows:
    """(score, label) per text: the row values of `ml.message_sentiment`."""
    from ml import sentiment

    scores, labels = sentiment.score_texts(texts)
    return [(float(s), label) for s, label in zip(scores, labels, strict=True)]


def toxicity_rows(texts: list[str]) -> Rows:
    """(probability, is_toxic) per text: the row values of `ml.message_toxicity`."""
    from ml import toxicity

    return [(float(p), bool(p >= toxicity.DECISION_THRESHOLD)) for p in toxicity.score_texts(texts)]


def score_sentiment_window(conn: psycopg.Connection, start: datetime, end: datetime) -> WriteResult:
    from ml import sentiment

    return score_messages_window(
        conn, start, end, table="ml.message_sentiment",
        columns=["sentiment_score", "sentiment_label"], score=sentiment_rows,
        model_version=sentiment.MODEL_VERSION,
    )  # fmt: skip


def score_toxicity_window(conn: psycopg.Connection, start: datetime, end: datetime) -> WriteResult:
    from ml import toxicity

    return score_messages_window(
        conn, start, end, table="ml.message_toxicity",
        columns=["toxicity_probability", "is_toxic"], score=toxicity_rows,
        model_version=toxicity.MODEL_VERSION,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Window models (hourly): emote bursts and hype prediction
# ---------------------------------------------------------------------------------------------

# The detector's baseline is the trailing 30 *active* minutes of a channel; an hour reads this many
# active minutes before it, so a burst up to ~2 hours long is seen whole and every minute's
# baseline is the same whichever run computes it.
BURST_LOOKBACK_MINUTES = 150
BURST_LOOKBACK_LIMIT = timedelta(days=2)  # older chat is a different stream's baseline anyway
_BURST_VIEW = """
    with before as (
        select
            channel, window_start_at,
            row_number() over (partition by channel order by window_start_at desc) as recency
        from intermediate.int_chat_window_activity
        where window_seconds = 60 and message_count > 0
            and window_start_at >= %(limit)s and window_start_at < %(start)s
    )
    select channel, min(window_start_at) as view_start
    from before where recency <= %(minutes)s group by channel
"""
_BURST_EMOTES = """
    select occ.channel, occ.emote_code as emote,
        date_bin(interval '1 minute', occ.sent_at, timestamptz '2000-01-01 00:00:00+00')
            as minute_start,
        count(*) as uses
    from intermediate.int_emote_occurrences as occ
    left join views on views.channel = occ.channel
    where occ.sent_at >= %(limit)s and occ.sent_at < %(end)s
        and occ.sent_at >= coalesce(views.view_start, %(start)s)
    group by 1, 2, 3 order by 1, 2, 3
"""
_BURST_MESSAGES = """
    select act.channel, act.window_start_at as minute_start, act.message_count as messages
    from intermediate.int_chat_window_activity as act
    left join views on views.channel = act.channel
    where act.window_seconds = 60 and act.message_count > 0
        and act.window_start_at >= %(limit)s and act.window_start_at < %(end)s
        and act.window_start_at >= coalesce(views.view_start, %(start)s)
    order by 1, 2
"""


def detect_bursts_window(conn: psycopg.Connection, start: datetime, end: datetime) -> WriteResult:
    """Bursts seen to end in [start, end), an hour at a time.

    A burst is complete once a later minute with chat shows it over, or once `SESSION_GAP` passed
    without chat (the stream ended); the hour holding that minute (`closed_at`) owns the row, so a
    burst across an hour boundary is written once, whole, and a backfill writes exactly the rows
    of its hours run one by one. Bursts still running when an hour ends go to
    `ml.emote_bursts_open` as of that hour, for the hour's hype run.
    """
    from ml import bursts

    began = time.perf_counter()
    hours = [_bursts_of_hour(conn, hour) for hour in _hours_near_chat(conn, start, end)]
    closed = pd.concat([pd.DataFrame(columns=_CLOSED_COLUMNS), *(h.closed for h in hours)],
                       ignore_index=True)  # fmt: skip
    running = pd.concat([pd.DataFrame(columns=_RUNNING_COLUMNS), *(h.running for h in hours)],
                        ignore_index=True)  # fmt: skip
    ids = list(closed["burst_id"])
    with conn.transaction():
        # A burst this run sees end may be stored by a later hour (this hour's chat changed
        # after that hour ran): it is this hour's now.
        replaced = _replace(conn, "ml.emote_bursts", closed,
                            "(closed_at >= %s and closed_at < %s) or burst_id = any(%s)",
                            (start, end, ids),
                            returning="burst_id, closed_at, started_at")  # fmt: skip
        stale = _hours_whose_bursts_moved(start, end, ids, replaced)
        stale += _hours_whose_burst_flags_lapsed(start, closed, replaced)
        _replace(conn, "ml.emote_bursts_open", running, "as_of_hour >= %s and as_of_hour < %s",
                 (start, end))  # fmt: skip
        if stale:
            mark_stale_hours(conn, stale)
    return WriteResult(len(closed), time.perf_counter() - began, bursts.MODEL_VERSION,
                       {"bursts": len(closed), "running_at_hour_end": len(running),
                        "hours_marked_stale": len(stale)})  # fmt: skip


def _hours_whose_bursts_moved(
    start: datetime, end: datetime, ids: list[str], stored: list[tuple[Any, ...]]
) -> list[datetime]:
    """Later hours that ran on chat before [start, end) changed (a late landing file, say), and
    whose bursts this run changes, from the (burst_id, closed_at) rows it replaced: the hour
    that stored a burst that now ends in the window, and the hour after the window when a burst
    the window held now ends later. They run again."""
    hours = {hour_floor(closed_at) for _, closed_at, _ in stored if closed_at >= end}
    if any(start <= closed_at < end and burst_id not in ids for burst_id, closed_at, _ in stored):
        hours.add(end)
    return sorted(hours)


def _hours_whose_burst_flags_lapsed(
    start: datetime, closed: pd.DataFrame, stored: list[tuple[Any, ...]]
) -> list[datetime]:
    """Hours more than an hour before the window whose windows a burst the window stored
    covered, and no longer does (this run drops the burst, or finds it starting later): their
    `is_burst_window` flags are rebuilt by running them again. (The hour just before the window
    is flagged again by the window's own build: `flag_earlier_burst_windows`.)"""
    starts = dict(zip(closed["burst_id"], pd.to_datetime(closed["started_at"], utc=True),
                      strict=True))  # fmt: skip
    hours: set[datetime] = set()
    before = start - timedelta(hours=1)
    for burst_id, _, started_at in stored:
        now = starts.get(burst_id)
        if started_at < before and (now is None or now > started_at):
            first = hour_floor(started_at)
            hours.update(
                first + timedelta(hours=h) for h in range((before - first) // timedelta(hours=1))
            )
    return sorted(hours)


def _hours_near_chat(conn: psycopg.Connection, start: datetime, end: datetime) -> list[datetime]:
    """The hours of [start, end) that can see a burst end: those with chat, or with chat less
    than `SESSION_GAP` before them (a burst is over at the next chat minute, or once the gap
    passed without chat). Any other hour has none, so a sparse multi-year backfill reads only
    the hours around its streams instead of every hour between them."""
    rows = conn.execute(
        """
        select distinct date_bin(interval '1 hour', window_start_at + shift,
                                 timestamptz '2000-01-01 00:00:00+00') as hour
        from intermediate.int_chat_window_activity
        cross join (values (interval '0'), (%(gap)s::interval)) as shifts (shift)
        where window_seconds = 60 and message_count > 0
            and window_start_at >= %(start)s::timestamptz - %(gap)s::interval
            and window_start_at < %(end)s
        """,
        {"start": start, "end": end, "gap": SESSION_GAP},
    ).fetchall()
    return sorted(hour for (hour,) in rows if start <= hour < end)


class _HourBursts(NamedTuple):
    closed: pd.DataFrame  # over by the hour's end, owned by the hour that saw them end
    running: pd.DataFrame  # still running at the hour's end, as they stand then


_CLOSED_COLUMNS = ["burst_id", "channel", "emote_code", "started_at", "fired_at", "ended_at",
                   "peak_at", "peak_uses", "baseline_uses", "score", "model_version",
                   "closed_at"]  # fmt: skip
_RUNNING_COLUMNS = ["as_of_hour", "burst_id", "channel", "emote_code", "started_at", "fired_at",
                    "seen_until", "peak_at", "peak_uses", "baseline_uses", "score",
                    "model_version"]  # fmt: skip


def _bursts_of_hour(conn: psycopg.Connection, start: datetime) -> _HourBursts:
    from ml import bursts

    end = start + timedelta(hours=1)
    params = {"start": start, "end": end, "limit": start - BURST_LOOKBACK_LIMIT,
              "minutes": BURST_LOOKBACK_MINUTES}  # fmt: skip
    views = f"with views as ({_BURST_VIEW})"
    emote_counts = read_frame(conn, views + _BURST_EMOTES, params)
    message_counts = read_frame(conn, views + _BURST_MESSAGES, params)
    none = _HourBursts(pd.DataFrame(columns=_CLOSED_COLUMNS),
                       pd.DataFrame(columns=_RUNNING_COLUMNS))  # fmt: skip
    if emote_counts.empty:
        return none
    emote_counts["uses"] = emote_counts["uses"].astype(int)
    message_counts["messages"] = message_counts["messages"].astype(int)
    found = bursts.detect_bursts(emote_counts, message_counts)
    if found.empty:
        return none
    # Over at the first minute with chat after the burst's last minute, or once the session gap
    # passed without chat (the stream ended): whichever comes first.
    last_minute = found["ended_at"] - pd.Timedelta(minutes=1)
    closed_at = last_minute + pd.Timedelta(SESSION_GAP)
    for channel, rows in found.groupby("channel"):
        minutes = pd.DatetimeIndex(
            message_counts.loc[message_counts["channel"] == channel, "minute_start"]
        )
        after = minutes.searchsorted(last_minute[rows.index], side="right")
        next_chat = pd.Series([minutes[i] if i < len(minutes) else pd.NaT for i in after],
                              index=rows.index, dtype="datetime64[ns, UTC]")  # fmt: skip
        gap_passed = closed_at[rows.index]
        closed_at[rows.index] = next_chat.where(next_chat < gap_passed, gap_passed)
    # Chat is read up to the hour's end, so a burst not yet over there is still running.
    running = cast(pd.Series, closed_at >= pd.Timestamp(end))
    owned = cast(pd.Series, ~running & (closed_at >= pd.Timestamp(start)))

    def values(mask: pd.Series, **extra: Any) -> dict[str, Any]:
        part = found[mask]
        return {
            "burst_id": part["burst_id"], "channel": part["channel"],
            "emote_code": part["emote"], "started_at": part["started_at"],
            "fired_at": part["fired_at"], "peak_at": part["peak_at"],
            "peak_uses": part["peak_uses"].astype(int),
            "baseline_uses": part["baseline_uses"].astype(float),
            "score": part["score"].astype(float), "model_version": bursts.MODEL_VERSION,
            **extra,
        }  # fmt: skip

    return _HourBursts(
        pd.DataFrame(values(owned, ended_at=found.loc[owned, "ended_at"],
                            closed_at=closed_at[owned]), columns=_CLOSED_COLUMNS),
        pd.DataFrame(values(running, seen_until=found.loc[running, "ended_at"], as_of_hour=start),
                     columns=_RUNNING_COLUMNS),
    )  # fmt: skip


HYPE_HISTORY = timedelta(days=28)
MIN_HYPE_POSITIVES = 20


def _sessions(minutes: pd.DataFrame) -> pd.Series:
    """A stream id per active minute (`ml.streams`: the split `int_stream_sessions` makes)."""
    ordered = minutes.sort_values(["channel", "minute_start"])
    channels = cast(pd.Series, ordered["channel"])
    starts = starts_stream(cast(pd.Series, ordered["minute_start"]), channels)
    number = pd.Series(starts, index=ordered.index).groupby(channels).cumsum()
    return cast(pd.Series, (channels + ":" + number.astype(str)).reindex(minutes.index))


def predict_hype_window(conn: psycopg.Connection, start: datetime, end: datetime) -> WriteResult:
    """Predict next-minute hype for the window's minutes with a model trained on earlier chat.

    A UTC week is scored by the model fitted on the four weeks before it: a time split, never
    trained on what it predicts. The model is fitted the first time its week is scored and kept in
    `ml.hype_models`, so an hour reads only the chat its features need (`hype.FEATURE_HISTORY`),
    a day at a time; an hour alone and a long backfill give identical rows. With too little
    labelled history the baseline score is used (rate over the stream's running 90th
    percentile), and `model_version` says so.

    Whether a stream went on through quiet minutes at the end of a window shows only in the chat
    after it, so the window reads `SESSION_GAP` ahead, and also rewrites the `SESSION_GAP` before
    it, which the previous hour scored before this hour's chat was loaded. An hour scored before
    the hours before it were loaded takes its chat for a new stream until it is scored again,
    which their load asks for (`ingestion.load.LATER_HOURS_READ_BACK`). When the window's chat
    changed the history a later week's stored model was fitted on, that week's built hours are
    marked stale (`later_hours_marked_stale`).
    """
    from ml import hype

    began = time.perf_counter()
    frames, versions, fitted, positives = [_HYPE_EMPTY], set(), 0, 0
    rewrite_from = start - SESSION_GAP
    for chunk_start, chunk_end in _day_chunks(rewrite_from, end):
        target = _hype_features(conn, chunk_start, chunk_end, read_ahead=SESSION_GAP,
                                bursts_known_at=end)  # fmt: skip
        if target.empty:
            continue
        stored = _weekly_hype_model(conn, _week_start(chunk_start))
        fitted += stored.fitted_now
        positives = max(positives, stored.training_positives)
        frame = _hype_predictions(target, stored.model)
        frames.append(frame)
        versions.add(str(frame["model_version"].iloc[0]))
    out = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    earlier = cast(pd.Series, out["window_start_at"] < pd.Timestamp(start))
    with conn.transaction():
        # Neighbouring hours' rewrites overlap; `_delete` makes them take turns.
        _replace(conn, "ml.hype_predictions", out,
                 "window_start_at >= %s and window_start_at < %s", (rewrite_from, end))  # fmt: skip
        stale = _mark_weeks_fitted_before(conn, "ml.hype_models", hype.MODEL_VERSION,
                                          HYPE_HISTORY, _hype_fingerprint, start, end)  # fmt: skip
    summary = {
        "predictions": int((~earlier).sum()),
        "earlier_minutes_rewritten": int(earlier.sum()),
        "training_positives": positives,
        "models_fitted": fitted,
        "later_hours_marked_stale": len(stale),
    }
    return WriteResult(len(out), time.perf_counter() - began, ", ".join(sorted(versions)), summary)


def _week_start(ts: datetime) -> datetime:
    day = ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _day_chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights: a backfill holds one day of minutes at a time."""
    chunks, cursor = [], start
    while cursor < end:
        day = cursor.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        chunks.append((cursor, min(end, day + timedelta(days=1))))
        cursor = chunks[-1][1]
    return chunks


def _hype_features(
    conn: psycopg.Connection, start: datetime, end: datetime, channels: Sequence[str] | None = None,
    max_minutes: int | None = None, read_ahead: timedelta = timedelta(minutes=1),
    bursts_known_at: datetime | None = None,
) -> pd.DataFrame:  # fmt: skip
    """`hype.build_features` for minutes in [start, end) (of `channels`, default all).

    `max_minutes`: keep `channels` in their order while their streams' minute grids (silent
    minutes included) fit; a stream of a few messages an hour spans weeks of minutes.
    `read_ahead`: chat read past the end. A minute is enough for the last minute's label (the
    next minute); `SESSION_GAP` also shows whether a stream went on through quiet minutes at the
    end, so they get rows.
    `bursts_known_at`: the end of the hour whose bursts run is the latest (default `end`): the
    bursts still running then count beside the finished ones.
    """
    from ml import hype

    read_from = start - hype.FEATURE_HISTORY
    read_to = end + read_ahead
    # A null array means every channel (the planner folds the test away).
    only = list(channels) if channels is not None else None
    minutes = read_frame(
        conn,
        "select channel, window_start_at as minute_start, message_count as messages,"
        " unique_chatter_count as chatters,"
        " round(coalesce(emote_message_share, 0) * message_count)::int as emote_messages,"
        " mean_sentiment as sentiment"
        " from intermediate.int_chat_window_activity"
        # Minutes with events but no message (JOIN/PART while offline) are no stream minutes.
        " where window_seconds = 60 and window_start_at >= %s and window_start_at < %s"
        " and message_count > 0"
        " and (%s::text[] is null or channel = any(%s::text[]))"
        " order by channel, window_start_at",
        (read_from, read_to, only, only),
    )
    if minutes.empty:
        return minutes
    for column in ("messages", "chatters", "emote_messages"):
        minutes[column] = minutes[column].astype(int)
    minutes["sentiment"] = minutes["sentiment"].astype(float)
    minutes["minute_start"] = pd.to_datetime(minutes["minute_start"], utc=True)
    minutes["stream_id"] = _sessions(minutes)
    if max_minutes is not None and channels is not None:
        minutes = _within_grid_budget(minutes, channels, max_minutes)
    # Finished bursts, and those still running at the end of the latest bursts run: an hour run
    # before the next one sees a burst that outlasts it, as a backfill does. A running burst
    # that has since finished is read finished (its minutes through quiet stretches included).
    known_at = pd.Timestamp(bursts_known_at or end)
    last_hour = (known_at - pd.Timedelta(microseconds=1)).floor("h")
    bursts = read_frame(
        conn,
        "select channel, fired_at, ended_at from ml.emote_bursts"
        " where ended_at > %(from)s and started_at < %(to)s"
        " and (%(only)s::text[] is null or channel = any(%(only)s::text[]))"
        " union all"
        " select channel, fired_at, seen_until from ml.emote_bursts_open as running"
        " where as_of_hour = %(last_hour)s and seen_until > %(from)s and started_at < %(to)s"
        " and (%(only)s::text[] is null or channel = any(%(only)s::text[]))"
        " and not exists (select from ml.emote_bursts as done"
        "                 where done.channel = running.channel"
        "                     and done.emote_code = running.emote_code"
        "                     and done.started_at < running.seen_until"
        "                     and done.ended_at > running.fired_at)"
        " order by 1, 2, 3",
        {"from": read_from, "to": end, "only": only, "last_hour": last_hour.to_pydatetime()},
    )
    per_min = hype._fill_minutes(minutes)
    per_min["burst_active"] = 0
    if not bursts.empty:
        per_min["burst_active"] = hype._active_bursts(per_min, bursts)
    features = hype.build_features(per_min)
    minute = features["minute_start"]
    in_window = (minute >= pd.Timestamp(start)) & (minute < pd.Timestamp(end))
    return cast(pd.DataFrame, features[in_window])


def _within_grid_budget(
    minutes: pd.DataFrame, channels: Sequence[str], max_minutes: int
) -> pd.DataFrame:
    """The minutes of the first `channels` whose filled per-stream grids total `max_minutes`."""
    spans = minutes.groupby(["channel", "stream_id"])["minute_start"].agg(["min", "max"])
    grid = (spans["max"] - spans["min"]) // pd.Timedelta(minutes=1) + 1
    per_channel = cast(pd.Series, grid.groupby(level=0).sum())
    running = cast(pd.Series, per_channel.reindex(list(channels)).fillna(0).cumsum())
    keep = [channel for channel, total in running.items() if total <= max_minutes]
    return cast(pd.DataFrame, minutes[minutes["channel"].isin(keep)])


def _stored_model(
    conn: psycopg.Connection, table: str, week: datetime, version: str, fingerprint: str,
    detail: str,
) -> tuple[Any, Any] | None:  # fmt: skip
    """(model or None, its `detail` column) stored in `table` for `week` and `version`, if it was
    fitted on the history `fingerprint` describes; None if there is none or the history changed."""
    import pickle

    schema, name = table.split(".")
    row = conn.execute(
        sql.SQL(
            "select history_fingerprint, model, {} from {}.{}"
            " where week_start_at = %s and model_version = %s"
        ).format(sql.Identifier(detail), sql.Identifier(schema), sql.Identifier(name)),
        (week, version),
    ).fetchone()
    if row is None or row[0] != fingerprint:
        return None
    # Our own tables, written by `_store_model`: the pickle is as trusted as the code.
    return (pickle.loads(row[1]) if row[1] is not None else None), row[2]


def _store_model(
    conn: psycopg.Connection, table: str, week: datetime, version: str, fingerprint: str,
    model: Any, **fitted_on: Any,
) -> None:  # fmt: skip
    """Replace `table`'s row for `week` and `version`: the model (None: too little to fit one),
    the history it was fitted on and the `fitted_on` columns."""
    import pickle

    schema, name = table.split(".")
    columns = ["week_start_at", "model_version", "history_fingerprint", *fitted_on, "model"]
    values = [week, version, fingerprint, *fitted_on.values(),
              pickle.dumps(model) if model is not None else None]  # fmt: skip
    with conn.transaction():
        _delete(conn, table, "week_start_at = %s and model_version = %s", (week, version))
        conn.execute(
            sql.SQL("insert into {}.{} ({}) values ({})").format(
                sql.Identifier(schema),
                sql.Identifier(name),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            values,
        )


@dataclass
class StoredHypeModel:
    model: Any  # ml.hype.HypeModel, or None: score by the baseline
    training_positives: int
    fitted_now: bool


# Fingerprints of stored weekly models begin so. Older ones (counts of the history's loads)
# are refitted when their week is next scored, but never make a week stale by themselves: an
# upgrade must not send every built week back to be run again.
_FINGERPRINT_PREFIX = "digest:"


def _history_fingerprint(conn: psycopg.Connection, start: datetime, end: datetime) -> str:
    """What was loaded for [start, end): the digests of its hours with events
    (`raw.partition_loads.content_hash`). Any change to an hour's events changes it."""
    row = conn.execute(
        "select md5(coalesce(string_agg(extract(epoch from partition_start)::bigint::text"
        " || '=' || content_hash, ',' order by partition_start), '')) from raw.partition_loads"
        " where partition_start >= %s and partition_start < %s and content_hash is not null",
        (start, end),
    ).fetchone()
    return _FINGERPRINT_PREFIX + (row[0] if row else "")


def _hype_fingerprint(conn: psycopg.Connection, week: datetime) -> str:
    return _history_fingerprint(conn, week - HYPE_HISTORY, week)


def _moderation_fingerprint(conn: psycopg.Connection, week: datetime) -> str:
    from ml import toxicity

    # The model embeds the toxicity model it was fitted with: another one means a refit when the
    # week is next scored (not a stale week: only the history part says that).
    tox_version = toxicity.default_model().version
    return f"{_history_fingerprint(conn, week - MODERATION_HISTORY, week)}|{tox_version}"


def _mark_weeks_fitted_before(
    conn: psycopg.Connection, table: str, version: str, history: timedelta,
    fingerprint: Callable[[psycopg.Connection, datetime], str], start: datetime, end: datetime,
) -> list[datetime]:  # fmt: skip
    """Built hours of later weeks whose model in `table` was fitted on history that [start, end)
    has changed since (an hour loaded late, withdrawn, or loaded after the weeks it precedes):
    they are marked stale, and their rerun refits the model. Returns those not already noted."""
    schema, name = table.split(".")
    weeks = conn.execute(
        sql.SQL(
            "select week_start_at, history_fingerprint from {}.{} where model_version = %s"
            " and week_start_at > %s and week_start_at < %s order by 1"
        ).format(sql.Identifier(schema), sql.Identifier(name)),
        (version, start, end + history),
    ).fetchall()
    # The history part only: a new toxicity model refits a week when it is scored, and must not
    # send every week back to run.
    outdated = [
        week for week, stored in weeks
        if stored.startswith(_FINGERPRINT_PREFIX)
        and stored.split("|")[0] != fingerprint(conn, week).split("|")[0]
    ]  # fmt: skip
    if not outdated:
        return []
    hours = [hour for (hour,) in conn.execute(
        "select partition_start from raw.partition_loads as loads"
        " join unnest(%s::timestamptz[]) as weeks (week_start)"
        " on loads.partition_start >= weeks.week_start"
        " and loads.partition_start < weeks.week_start + interval '7 days'"
        " where not (loads.partition_start >= %s and loads.partition_start < %s)"
        # Already noted: their pending rerun refits the week (noting them again would only
        # queue a second run of the same week).
        " and loads.stale_since is null"
        " order by 1", (outdated, start, end),
    ).fetchall()]  # fmt: skip
    mark_stale_hours(conn, hours)
    return hours


def _training_channels(conn: psycopg.Connection, start: datetime, end: datetime) -> list[str]:
    """Channels whose minutes fit the training budget, in a fixed pseudo-random order."""
    from ml import hype

    rows = conn.execute(
        """
        with per_channel as (
            select channel, count(*) as minutes
            from intermediate.int_chat_window_activity
            where window_seconds = 60 and window_start_at >= %s and window_start_at < %s
                and message_count > 0
            group by channel
        )
        select channel, sum(minutes) over (order by md5(channel), channel) as running
        from per_channel
        """,
        (start, end),
    ).fetchall()
    return [channel for channel, running in rows if running <= hype.TRAINING_MAX_MINUTES]


def _weekly_hype_model(conn: psycopg.Connection, week: datetime) -> StoredHypeModel:
    """The model that scores `week`: stored, or fitted on the four weeks before it and stored."""
    from ml import hype

    history_start = week - HYPE_HISTORY
    fingerprint = _hype_fingerprint(conn, week)
    stored = _stored_model(
        conn, "ml.hype_models", week, hype.MODEL_VERSION, fingerprint, "training_positives"
    )
    if stored is not None:
        return StoredHypeModel(stored[0], int(stored[1]), fitted_now=False)
    channels = _training_channels(conn, history_start, week)
    features = _hype_features(
        conn, history_start, week, channels, max_minutes=hype.TRAINING_MAX_MINUTES
    )
    labelled = (
        cast(pd.DataFrame, features[features["is_hype_label"].notna()])
        if not features.empty
        else features
    )
    label = cast(pd.Series, labelled["is_hype_label"]) if not labelled.empty else pd.Series()
    positives = int(label.sum()) if not labelled.empty else 0
    model = None
    if positives >= MIN_HYPE_POSITIVES and label.nunique() == 2:
        model = hype.train_hype(labelled)
    _store_model(
        conn, "ml.hype_models", week, hype.MODEL_VERSION, fingerprint, model,
        training_windows=len(labelled), training_positives=positives,
        training_channels=len(set(labelled["channel"])) if not labelled.empty else 0,
    )  # fmt: skip
    return StoredHypeModel(model, positives, fitted_now=True)


_HYPE_EMPTY = pd.DataFrame(
    columns=["channel", "window_start_at", "hype_probability", "is_hype_label", "model_version"]
)


def _hype_predictions(target: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Rows of `ml.hype_predictions` for `target` features from `model` (None: the baseline)."""
    from ml import hype

    if model is not None:
        version = hype.MODEL_VERSION
        probability = hype.predict(target, model)["hype_probability"].to_numpy()
    else:
        version = f"{hype.MODEL_VERSION}-baseline"
        ratio = target["rate_rel_p90"].to_numpy(dtype=float)
        probability = 1.0 / (1.0 + np.exp(-4.0 * (np.nan_to_num(ratio) - 1.0)))
    out = pd.DataFrame({
        "channel": target["channel"].to_numpy(),
        "window_start_at": target["minute_start"].to_numpy(),
        "hype_probability": probability.astype(float),
        "is_hype_label": pd.array(target["is_hype_label"].to_numpy(dtype=float), dtype="Float64")
        .astype("boolean"),
        "model_version": version,
    })  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Moderation risk (hourly): what this warehouse's moderators act on
# ---------------------------------------------------------------------------------------------

MODERATION_HISTORY = timedelta(days=28)
# The week's model is fitted on a pseudo-random sample of channel-hours of every channel that
# had moderation (its own included: on NormVio that beat both a model per channel and one that
# never saw the channel). Scoring costs ~13-21 k msgs/s per core (context features and character
# n-grams in Python), so only the channels with the most moderation are scored.
MODERATION_TRAINING_MAX_MESSAGES = 150_000
MODERATION_SCORED_CHANNELS = 20

_MODERATION_HOURS = """
    select
        channel,
        date_bin(interval '1 hour', window_start_at, timestamptz '2000-01-01 00:00:00+00')
            as hour_start,
        sum(message_count)::bigint as messages,
        sum(moderation_action_count)::bigint as actions
    from intermediate.int_chat_window_activity
    where window_seconds = 300 and window_start_at >= %s and window_start_at < %s
    group by 1, 2
    having sum(message_count) > 0
    order by md5(channel || extract(epoch from date_bin(
            interval '1 hour', window_start_at, timestamptz '2000-01-01 00:00:00+00'
        ))::bigint::text),
        1, 2
"""
# Messages with their stored toxicity, and moderation acting on one chatter, in given spans.
_SPAN_CHAT = """
    select events.channel, events.event_id, events.sent_at, events.event_type,
        events.user_login, events.body, toxicity.toxicity_probability,
        events.target_user_login, events.target_message_id
    from unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) as spans(channel, since, until)
    join staging.stg_raw__chat_events as events
        on events.channel = spans.channel
        and events.sent_at >= spans.since and events.sent_at < spans.until
    left join ml.message_toxicity as toxicity
        on toxicity.channel = events.channel and toxicity.event_id = events.event_id
    where events.event_type in ('message', 'timeout', 'ban', 'delete')
    order by events.channel, events.sent_at, events.event_id
"""


def span_chat(
    conn: psycopg.Connection, spans: Sequence[tuple[str, datetime, datetime]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(messages, actions) of each (channel, since, until) span, as `chat_windows` takes them."""
    columns = [list(c) for c in zip(*spans, strict=True)] if spans else [[], [], []]
    chat = read_frame(conn, _SPAN_CHAT, columns)
    is_message = chat["event_type"] == "message"
    messages = chat.loc[is_message, ["channel", "event_id", "sent_at", "user_login", "body",
                                     "toxicity_probability"]]  # fmt: skip
    actions = chat.loc[~is_message, ["channel", "sent_at", "event_type", "target_user_login",
                                     "target_message_id"]].rename(
        columns={"event_type": "action_type"})  # fmt: skip
    return cast(pd.DataFrame, messages), cast(pd.DataFrame, actions)


def _sampled_hours(hours: pd.DataFrame, budget: int) -> list[tuple[str, datetime, datetime]]:
    """The (channel, hour) spans of `hours`, in their fixed pseudo-random order, within budget."""
    keep = hours[hours["messages"].astype(int).cumsum() <= budget]
    return [(c, h, h + timedelta(hours=1)) for c, h in zip(keep["channel"], keep["hour_start"],
                                                            strict=True)]  # fmt: skip


def _fit_moderation(conn: psycopg.Connection, spans: Sequence[tuple[str, datetime, datetime]]
                    ) -> tuple[Any, int, int]:  # fmt: skip
    """(model or None, training messages, weak positives) from the chat in `spans`."""
    from ml import moderation, toxicity

    messages, actions = span_chat(conn, spans)
    windows = moderation.chat_windows(messages, actions)
    model, positives = moderation.train_on_windows(windows, toxicity.default_model())
    return model, len(messages), positives


@dataclass
class StoredModerationModel:
    model: Any  # ml.moderation.ModerationModel, or None: too little moderation to learn from
    channels: list[str]  # the channels it scores: the most moderated
    fitted_now: bool


def _weekly_moderation_model(conn: psycopg.Connection, week: datetime) -> StoredModerationModel:
    """The model that scores `week`: stored, or fitted on the four weeks before it and stored."""
    from ml import moderation

    history_start = week - MODERATION_HISTORY
    fingerprint = _moderation_fingerprint(conn, week)
    stored = _stored_model(
        conn, "ml.moderation_models", week, moderation.MODEL_VERSION, fingerprint,
        "scored_channels",
    )  # fmt: skip
    if stored is not None:
        return StoredModerationModel(stored[0], list(stored[1]), fitted_now=False)
    hours = read_frame(conn, _MODERATION_HOURS, (history_start, week))
    spans: list[tuple[str, datetime, datetime]] = []
    ranked: list[str] = []
    if not hours.empty:
        per_channel: dict[str, int] = collections.Counter()
        for channel, count in zip(hours["channel"], hours["actions"], strict=True):
            per_channel[str(channel)] += int(count)
        order = sorted(per_channel.items(), key=lambda item: (-item[1], item[0]))
        ranked = [channel for channel, count in order if count > 0]
        sample = cast(pd.DataFrame, hours[hours["channel"].isin(ranked)])
        spans = _sampled_hours(sample, MODERATION_TRAINING_MAX_MESSAGES)
    model, messages, positives = _fit_moderation(conn, spans)
    scored = ranked[:MODERATION_SCORED_CHANNELS] if model is not None else []
    _store_model(
        conn, "ml.moderation_models", week, moderation.MODEL_VERSION, fingerprint, model,
        training_messages=messages, training_positives=positives,
        training_channels=len({span[0] for span in spans}), scored_channels=scored,
    )  # fmt: skip
    return StoredModerationModel(model, scored, fitted_now=True)


_MODERATION_CHAT_HOURS = """
    select distinct date_bin(interval '1 hour', window_start_at, %s) as hour
    from intermediate.int_chat_window_activity
    where window_seconds = 300 and message_count > 0
        and window_start_at >= %s and window_start_at < %s
    order by hour
"""


def score_moderation_window(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> WriteResult:
    """Each message's probability of getting moderated, learned from this warehouse's own
    timeouts, bans and deletions (weak labels: `ml.moderation.weak_labels`).

    A UTC week is scored by a model fitted on the four weeks before it, as for hype, over every
    channel that had moderation; it scores the `MODERATION_SCORED_CHANNELS` with the most. Each
    hour is scored with its own chat plus the `moderation.HISTORY_S` before it as context. Other
    channels get no rows (their messages keep the generic toxicity score), and so does a week
    with too little moderation before it.
    """
    from ml import moderation

    began = time.perf_counter()
    columns = ["channel", "event_id", "sent_at", "moderation_probability", "model_version"]
    written = fitted = 0
    history = timedelta(seconds=moderation.HISTORY_S)
    stored = StoredModerationModel(None, [], fitted_now=False)
    week: datetime | None = None
    with conn.transaction():
        _clear_message_window(conn, "ml.message_moderation_risk", start, end)
        # An hour at a time, only hours with chat: a backfill of sparse years holds one hour of
        # chat in memory and neither reads nor fits anything for empty weeks.
        for (hour,) in conn.execute(_MODERATION_CHAT_HOURS, (start, start, end)).fetchall():
            if _week_start(hour) != week:
                week = _week_start(hour)
                stored = _weekly_moderation_model(conn, week)
                fitted += stored.fitted_now
            until = min(end, hour + timedelta(hours=1))
            spans = [(channel, hour - history, until) for channel in sorted(stored.channels)]
            for window in moderation.chat_windows(*span_chat(conn, spans), freq=None):
                index = window.messages_since(hour)
                scores = stored.model.score_window(window.events, index, window.toxicity)
                _copy_rows(conn, "ml.message_moderation_risk", columns, (
                    (window.channel, window.event_ids[i], window.sent_at[i].to_pydatetime(),
                     float(p), moderation.MODEL_VERSION)
                    for i, p in zip(index, scores, strict=True)))  # fmt: skip
                written += len(index)
        _analyze(conn, "ml.message_moderation_risk")
        stale = _mark_weeks_fitted_before(
            conn, "ml.moderation_models", moderation.MODEL_VERSION, MODERATION_HISTORY,
            _moderation_fingerprint, start, end,
        )  # fmt: skip
    summary = {"channels_scored": len(stored.channels), "models_fitted": fitted,
               "later_hours_marked_stale": len(stale)}  # fmt: skip
    return WriteResult(written, time.perf_counter() - began, moderation.MODEL_VERSION, summary)


# ---------------------------------------------------------------------------------------------
# Stream-level models (daily): chatter segments, topics, stream patterns
# ---------------------------------------------------------------------------------------------

_STREAM_MESSAGES = """
    select
        sessions.stream_id, events.channel, events.sent_at, events.user_login,
        coalesce(events.body, '') as text, events.subscriber_months,
        coalesce(emotes.codes, '{}') as emotes
    from intermediate.int_stream_sessions as sessions
    join staging.stg_raw__chat_events as events
        on events.channel = sessions.channel
        and events.sent_at >= sessions.started_at and events.sent_at < sessions.ended_at
    left join lateral (
        select array_agg(occ.emote_code order by occ.emote_occurrence_key) as codes
        from intermediate.int_emote_occurrences as occ
        where occ.chat_event_key = events.chat_event_key and occ.sent_at = events.sent_at
    ) as emotes on true
    where events.event_type = 'message'
    order by sessions.stream_id, events.sent_at, events.event_id
"""


def _stream_messages(conn: psycopg.Connection) -> pd.DataFrame:
    frame = read_frame(conn, _STREAM_MESSAGES)
    if not frame.empty:
        frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
        frame["emotes"] = frame["emotes"].map(list)
    return frame


class _SegmentOptions(TypedDict):
    moderation: pd.DataFrame | None
    joins: pd.DataFrame | None


def _segment_inputs(conn: psycopg.Connection) -> tuple[pd.DataFrame, _SegmentOptions]:
    messages = _stream_messages(conn)
    moderation = read_frame(
        conn,
        "select moderation.channel, moderation.target_user_login, sessions.stream_id"
        " from intermediate.int_moderation_events as moderation"
        " join intermediate.int_stream_sessions as sessions"
        " on sessions.channel = moderation.channel"
        " and moderation.moderated_at >= sessions.started_at"
        " and moderation.moderated_at < sessions.ended_at"
        " where moderation.target_user_login is not null order by 1, 2, 3",
    )
    joins = read_frame(
        conn,
        "select events.channel, sessions.stream_id, events.user_login"
        " from staging.stg_raw__chat_events as events"
        " join intermediate.int_stream_sessions as sessions on sessions.channel = events.channel"
        " and events.sent_at >= sessions.started_at and events.sent_at < sessions.ended_at"
        " where events.event_type = 'join' order by 1, 2, 3",
    )
    options: _SegmentOptions = {"moderation": moderation if not moderation.empty else None,
                                "joins": joins if not joins.empty else None}  # fmt: skip
    return messages, options


def build_segments(conn: psycopg.Connection) -> WriteResult:
    """Segment per chatter and channel, replacing ml.chatter_segments."""
    from ml import segments

    began = time.perf_counter()
    messages, options = _segment_inputs(conn)
    out = pd.DataFrame(columns=segments.SEGMENT_COLUMNS)
    if not messages.empty:
        out = cast(
            pd.DataFrame, segments.chatter_segments(messages, **options)[segments.SEGMENT_COLUMNS]
        )
    with conn.transaction():
        _replace(conn, "ml.chatter_segments", out, "true", ())
    counts = out["segment"].value_counts().to_dict() if not out.empty else {}
    return WriteResult(len(out), time.perf_counter() - began, segments.MODEL_VERSION,
                       {"segments": {str(k): int(v) for k, v in counts.items()}})  # fmt: skip


def build_stream_segments(conn: psycopg.Connection) -> WriteResult:
    """Segment per chatter and stream (attendance counted causally), replacing its table."""
    from ml import segments

    began = time.perf_counter()
    messages, options = _segment_inputs(conn)
    columns = ["stream_id", "channel", "user_login", "segment", "model_version"]
    out = pd.DataFrame(columns=columns)
    if not messages.empty:
        out = cast(pd.DataFrame, segments.chatter_stream_segments(messages, **options)[columns])
    with conn.transaction():
        _replace(conn, "ml.chatter_stream_segments", out, "true", ())
    return WriteResult(len(out), time.perf_counter() - began, segments.MODEL_VERSION,
                       {"chatter_streams": len(out)})  # fmt: skip


def build_topics(conn: psycopg.Connection) -> WriteResult:
    from ml import topics

    began = time.perf_counter()
    messages = _stream_messages(conn)
    columns = ["channel", "stream_id", "segment_start_at", "segment_end_at", "topic_rank",
               "topic_label", "top_terms", "weight", "shift_from_previous",
               "model_version"]  # fmt: skip
    out = pd.DataFrame(columns=columns)
    if not messages.empty:
        found = topics.segment_topics(messages)
        found = found[found["topic_label"].notna()] if "topic_label" in found else found
        table = pd.DataFrame({
            "channel": found["channel"], "stream_id": found["stream_id"],
            "segment_start_at": found["segment_start"], "segment_end_at": found["segment_end"],
            "topic_rank": found["topic_rank"].astype(int), "topic_label": found["topic_label"],
            "top_terms": [
                _terms_json(terms, weights)
                for terms, weights in zip(found["top_terms"], found["term_weights"], strict=True)
            ],
            "weight": found["weight"].astype(float),
            "shift_from_previous": found["shift_from_previous"].astype(float),
            "model_version": topics.MODEL_VERSION,
        })  # fmt: skip
        out = cast(pd.DataFrame, table[columns])
    with conn.transaction():
        _replace(conn, "ml.stream_topics", out, "true", ())
    return WriteResult(len(out), time.perf_counter() - began, topics.MODEL_VERSION,
                       {"topics": len(out)})  # fmt: skip


def build_topic_shifts(conn: psycopg.Connection) -> WriteResult:
    """Topic shift of every stream from its channel's previous one, replacing
    ml.stream_topic_shifts."""
    from ml import topics

    began = time.perf_counter()
    messages = _stream_messages(conn)
    columns = ["stream_id", "channel", "first_chat_minute_at", "previous_stream_id",
               "shift_from_previous_stream", "model_version"]  # fmt: skip
    out = pd.DataFrame(columns=columns)
    if not messages.empty:
        shifts = topics.stream_topic_shift(messages)
        out = cast(pd.DataFrame, shifts.rename(columns={"stream_start": "first_chat_minute_at"}))
    out = cast(pd.DataFrame, out[columns])
    with conn.transaction():
        _replace(conn, "ml.stream_topic_shifts", out, "true", ())
    measured = int(cast(pd.Series, out["shift_from_previous_stream"]).notna().sum())
    return WriteResult(len(out), time.perf_counter() - began, topics.MODEL_VERSION,
                       {"streams": len(out), "shifts_measured": measured})  # fmt: skip


def _terms_json(terms: Sequence[str], weights: Sequence[float]) -> str:
    pairs = zip(terms, weights, strict=False)
    return json.dumps([{"term": t, "weight": round(float(w), 4)} for t, w in pairs])


def build_stream_patterns(conn: psycopg.Connection) -> WriteResult:
    from ml import patterns

    began = time.perf_counter()
    activity = read_frame(
        conn,
        "select sessions.stream_id, sessions.channel, sessions.started_at as stream_start,"
        " sessions.ended_at as stream_end, minutes.window_start_at as minute_start,"
        " minutes.message_count as messages"
        " from intermediate.int_stream_sessions as sessions"
        " join intermediate.int_chat_window_activity as minutes"
        " on minutes.channel = sessions.channel"
        " and minutes.window_seconds = 60 and minutes.window_start_at >= sessions.started_at"
        " and minutes.window_start_at < sessions.ended_at"
        " order by sessions.stream_id, minutes.window_start_at",
    )
    out = pd.DataFrame(columns=["stream_id", "channel", "activity_deciles", "pattern",
                                "model_version"])  # fmt: skip
    if not activity.empty:
        for column in ("stream_start", "stream_end", "minute_start"):
            activity[column] = pd.to_datetime(activity[column], utc=True)
        activity["messages"] = activity["messages"].astype(int)
        curves = patterns.stream_curves(activity)
        named = patterns.stream_patterns(curves, n_clusters=min(6, len(curves)))
        out = pd.DataFrame({
            "stream_id": named["stream_id"], "channel": named["channel"],
            "activity_deciles": [json.dumps([round(float(v), 5) for v in row])
                                 for row in named[patterns.DECILES].to_numpy()],
            "pattern": named["pattern"], "model_version": patterns.MODEL_VERSION,
        })  # fmt: skip
    with conn.transaction():
        _replace(conn, "ml.stream_patterns", out, "true", ())
    counts = out["pattern"].value_counts().to_dict() if not out.empty else {}
    return WriteResult(len(out), time.perf_counter() - began, patterns.MODEL_VERSION,
                       {"patterns": {str(k): int(v) for k, v in counts.items()}})  # fmt: skip
