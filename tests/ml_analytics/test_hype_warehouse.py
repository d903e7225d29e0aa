"""Hype prediction through PostgreSQL: weekly models are stored, reused, refitted when their
history changes, and an hour is scored from a bounded read of recent minutes.

`intermediate.int_chat_window_activity` is created here with the columns the hype writer reads
(dbt builds the real one; the dbt tests cover that model).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from ml.hype import FEATURE_HISTORY, MODEL_VERSION, synthetic_hype_minutes
from ml.warehouse import predict_hype_window
from tests.locks import wait_until_blocked
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

WEEK = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the week scored by the stored model


def _minutes() -> pd.DataFrame:
    """Synthetic streams, two a day from four weeks before WEEK to two days into it."""
    minutes = synthetic_hype_minutes(2, n_streams=60, minutes=400)
    stream = minutes["stream_id"].str[1:].astype(int)
    first = minutes.groupby("stream_id")["minute_start"].transform("min")
    offset = minutes["minute_start"] - first
    started = pd.Timestamp(WEEK - timedelta(days=28)) + pd.to_timedelta(stream * 12, unit="h")
    return minutes.assign(minute_start=started + offset)


def _load(conn: psycopg.Connection, minutes: pd.DataFrame) -> None:
    conn.execute("create schema if not exists intermediate")
    conn.execute(
        "create table if not exists intermediate.int_chat_window_activity (channel text,"
        " window_seconds int,"
        " window_start_at timestamptz, message_count bigint, unique_chatter_count bigint,"
        " emote_message_share double precision, mean_sentiment double precision)"
    )
    with conn.cursor().copy("copy intermediate.int_chat_window_activity from stdin") as copy:
        for row in minutes.itertuples(index=False):
            if row.messages > 0:  # quiet minutes of a stream have no row
                copy.write_row((row.channel, 60, row.minute_start.to_pydatetime(),
                                int(row.messages), int(row.chatters),
                                row.emote_messages / row.messages, None))  # fmt: skip
    conn.commit()


def _load_surge(
    conn: psycopg.Connection, minutes: pd.DatetimeIndex, uses: list[int], messages: list[int]
) -> None:
    """Chat minutes of channel `chan` with `uses` of Kappa each, for the bursts detector too."""
    _load(conn, pd.DataFrame({"channel": "chan", "minute_start": minutes, "messages": messages,
                              "chatters": 900, "emote_messages": uses}))  # fmt: skip
    conn.execute("create table intermediate.int_emote_occurrences (channel text,"
                 " emote_code text, sent_at timestamptz)")  # fmt: skip
    with conn.cursor().copy("copy intermediate.int_emote_occurrences from stdin") as copy:
        for minute, count in zip(minutes, uses, strict=True):
            for _ in range(count):
                copy.write_row(("chan", "Kappa", minute.to_pydatetime()))


def _predictions(conn: psycopg.Connection, start: datetime, end: datetime) -> list[tuple]:
    return conn.execute(
        "select channel, window_start_at, hype_probability, is_hype_label, model_version"
        " from ml.hype_predictions where window_start_at >= %s and window_start_at < %s"
        " order by 1, 2",
        (start, end),
    ).fetchall()


def test_weekly_model_is_stored_reused_refitted_and_reads_a_bounded_history(
    migrated: PgUrl,
) -> None:
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _minutes())
        # An hour inside the last stream (stream 59 starts at WEEK + 36 h and lasts 400 minutes).
        hour = WEEK + timedelta(hours=38)
        first = predict_hype_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()
        assert first.summary["models_fitted"] == 1
        assert first.model_version == MODEL_VERSION  # a fitted model, not the baseline
        assert first.summary["predictions"] == 60  # plus the 30 minutes before, rewritten
        stored = conn.execute(
            "select week_start_at, training_positives, model is not null from ml.hype_models"
        ).fetchall()
        assert stored == [(WEEK, first.summary["training_positives"], True)]
        assert first.summary["training_positives"] >= 20
        alone = _predictions(conn, hour, hour + timedelta(hours=1))

        # A rerun reuses the stored model and writes the same rows.
        again = predict_hype_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()
        assert again.summary["models_fitted"] == 0
        assert _predictions(conn, hour, hour + timedelta(hours=1)) == alone

        # A backfill of the whole day gives the hour the same rows as the hour alone.
        day = WEEK + timedelta(days=1)
        predict_hype_window(conn, day, day + timedelta(days=1))
        conn.commit()
        assert _predictions(conn, hour, hour + timedelta(hours=1)) == alone

        # The hour reads nothing older than FEATURE_HISTORY: without that chat, same rows.
        conn.execute(
            "delete from intermediate.int_chat_window_activity where window_start_at < %s",
            (hour - FEATURE_HISTORY,),
        )
        predict_hype_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()
        assert _predictions(conn, hour, hour + timedelta(hours=1)) == alone

        # History changes (an hour of it reloaded): the week's model is fitted again, now on
        # what is left (nothing before the hour's lookback), so it falls back to the baseline.
        conn.execute(
            "insert into raw.partition_loads (partition_start, files, events, rejects,"
            " content_hash) values (%s, 1, 10, 0, 'reloaded')",
            (WEEK - timedelta(days=3),),
        )
        refit = predict_hype_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()
        assert refit.summary["models_fitted"] == 1
        assert refit.model_version == f"{MODEL_VERSION}-baseline"


def test_the_loader_sends_back_every_later_hour_whose_features_read_a_changed_hour() -> None:
    from ingestion.load import LATER_HOURS_READ_BACK

    assert LATER_HOURS_READ_BACK >= FEATURE_HISTORY


def test_a_week_scored_before_its_history_changed_is_sent_back(migrated: PgUrl) -> None:
    """Week WEEK is scored, then an hour of the weeks before it loads late (or changes, or is
    withdrawn): its built hours are marked stale, so their rerun refits the model on the history
    a full build has. Scoring that earlier hour again marks nothing once the week is refitted."""
    from ingestion.load import stale_hours

    def loaded(hour: datetime, digest: str | None) -> None:
        conn.execute(
            "insert into raw.partition_loads (partition_start, files, events, rejects,"
            " content_hash) values (%s, 1, 10, 0, %s) on conflict (partition_start) do update"
            " set content_hash = excluded.content_hash, stale_since = null",
            (hour, digest),
        )

    def stale() -> list[datetime]:
        return [hour for hour, _ in stale_hours(conn)]

    hour, late = WEEK + timedelta(hours=38), WEEK - timedelta(days=3)
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _minutes())
        for built in (WEEK + timedelta(hours=37), hour):
            loaded(built, f"week {built:%H}")
        predict_hype_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()

        loaded(late, "late")
        earlier = predict_hype_window(conn, late, late + timedelta(hours=1))
        conn.commit()
        assert earlier.summary["later_hours_marked_stale"] == 2
        assert stale() == [WEEK + timedelta(hours=37), hour]

        loaded(hour, "week 38")  # the hour's own rerun: loaded again, then scored
        assert predict_hype_window(conn, hour, hour + timedelta(hours=1)).summary[
            "models_fitted"
        ] == 1  # fmt: skip
        conn.commit()
        loaded(WEEK + timedelta(hours=37), "week 37")
        again = predict_hype_window(conn, late, late + timedelta(hours=1))
        assert again.summary["later_hours_marked_stale"] == 0 and stale() == []

        # A model stored before digests were kept is refitted when its week is scored, but
        # never sends its week back by itself.
        conn.execute("update ml.hype_models set history_fingerprint = '3:10618:0'")
        loaded(late, "changed")
        old = predict_hype_window(conn, late, late + timedelta(hours=1))
        assert old.summary["later_hours_marked_stale"] == 0 and stale() == []


def test_an_hour_scored_before_the_next_one_loads_is_completed_by_the_next(
    migrated: PgUrl,
) -> None:
    """Chat goes quiet for the last three minutes of an hour, then goes on. When the hour is scored
    before the next one loads, its stream seems to end at its last chat; the next hour's run
    rewrites those minutes, so hour by hour as chat arrives ends with a backfill's rows."""
    hour = WEEK + timedelta(hours=38)
    after = hour + timedelta(hours=1)
    minutes = _minutes()
    quiet = (minutes["minute_start"] >= pd.Timestamp(after - timedelta(minutes=3))) & (
        minutes["minute_start"] < pd.Timestamp(after)
    )
    minutes.loc[quiet, "messages"] = 0
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, minutes[minutes["minute_start"] < pd.Timestamp(after)])
        predict_hype_window(conn, hour, after)
        conn.commit()
        alone = _predictions(conn, hour, after)
        assert len(alone) == 57 and alone[-1][3] is None  # the stream seemed to end at :56

        _load(conn, minutes[minutes["minute_start"] >= pd.Timestamp(after)])
        result = predict_hype_window(conn, after, after + timedelta(hours=1))
        conn.commit()
        assert result.summary["earlier_minutes_rewritten"] == 30
        hourly = _predictions(conn, hour, after + timedelta(hours=1))
        assert len(hourly) == 120 and hourly[56][3] is False  # :57 was quiet, not hype

        predict_hype_window(conn, hour, after + timedelta(hours=1))
        conn.commit()
        assert _predictions(conn, hour, after + timedelta(hours=1)) == hourly


@pytest.mark.parametrize("days", [0, 1], ids=["monday-midnight", "tuesday-midnight"])
def test_quiet_minutes_across_midnight_get_rows_hour_by_hour_and_in_one_run(
    migrated: PgUrl, days: int
) -> None:
    """A stream goes quiet from 23:57 to 00:02, across the cut between days (and weeks, on a
    Monday): the quiet minutes are part of the stream, whether scored hour by hour or at once."""
    midnight = WEEK + timedelta(days=days)
    minutes = _minutes()
    # Move the streams so one runs from two hours before this midnight to two hours after it.
    minutes["minute_start"] -= pd.Timedelta(hours=2 + 36 - 24 * days)
    quiet = (minutes["minute_start"] >= pd.Timestamp(midnight - timedelta(minutes=3))) & (
        minutes["minute_start"] < pd.Timestamp(midnight + timedelta(minutes=3))
    )
    minutes.loc[quiet, "messages"] = 0
    first, last = midnight - timedelta(hours=2), midnight + timedelta(hours=2)
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, minutes[minutes["minute_start"] < pd.Timestamp(first)])
        for hour in pd.date_range(first, last, freq="h", inclusive="left"):
            hour_end = hour + pd.Timedelta(hours=1)
            in_hour = (minutes["minute_start"] >= hour) & (minutes["minute_start"] < hour_end)
            _load(conn, minutes[in_hour])
            predict_hype_window(conn, hour.to_pydatetime(), hour_end.to_pydatetime())
            conn.commit()
        hourly = _predictions(conn, first, last)
        predict_hype_window(conn, first, last)
        conn.commit()
        assert _predictions(conn, first, last) == hourly
    assert len(hourly) == 240  # every minute of the four hours, the quiet ones included
    before_midnight = {row[1]: row[3] for row in hourly if row[1] < midnight}
    assert before_midnight[midnight - timedelta(minutes=4)] is False  # :57 was quiet, not hype


def test_minutes_with_events_but_no_messages_join_no_streams(migrated: PgUrl) -> None:
    """JOIN/PART events keep arriving while a channel is offline, and the dbt model has a row
    with no messages for each of their minutes. Two streams three hours apart stay two: the
    second is scored the same with those rows, and the gap gets no predictions."""
    start = WEEK + timedelta(hours=18)
    streams = pd.date_range(start, periods=60, freq="min").append(
        pd.date_range(start + timedelta(hours=3), periods=60, freq="min")
    )
    busy = [20 + (i % 7) * (1 + 9 * (i % 60 == 45)) for i in range(len(streams))]
    minutes = pd.DataFrame({"channel": "chan", "minute_start": streams, "messages": busy,
                            "chatters": 10, "emote_messages": 2})  # fmt: skip
    second = (start + timedelta(hours=3), start + timedelta(hours=4))
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, minutes)
        predict_hype_window(conn, *second)
        conn.commit()
        streams_apart = _predictions(conn, start, second[1])
        conn.execute(
            "insert into intermediate.int_chat_window_activity (channel, window_seconds,"
            " window_start_at, message_count, unique_chatter_count) select 'chan', 60, minute,"
            " 0, 0 from generate_series(%s::timestamptz, %s, interval '10 minutes') as minute",
            (start + timedelta(hours=1), second[0] - timedelta(minutes=1)),
        )
        predict_hype_window(conn, *second)
        conn.commit()
        assert _predictions(conn, start, second[1]) == streams_apart
    assert [row[1] for row in streams_apart] == list(streams[60:])


def test_neighbouring_hours_scored_at_once_wait_for_each_other(migrated: PgUrl) -> None:
    """Hour H+1 rewrites the end of hour H: while H's run is open, H+1's run waits for it instead
    of failing on rows it cannot see yet, and both end as a single run of the two hours would."""
    import threading

    hour = WEEK + timedelta(hours=38)
    after = hour + timedelta(hours=1)
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _minutes())
        predict_hype_window(conn, hour, after + timedelta(hours=1))  # fits and stores the model
        conn.commit()
        together = _predictions(conn, hour, after + timedelta(hours=1))
    errors: list[BaseException] = []

    def next_hour() -> None:
        try:
            with psycopg.connect(migrated.libpq()) as other:
                predict_hype_window(other, after, after + timedelta(hours=1))
                other.commit()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with psycopg.connect(migrated.libpq()) as conn:
        predict_hype_window(conn, hour, after)  # its transaction stays open meanwhile
        worker = threading.Thread(target=next_hour)
        worker.start()
        wait_until_blocked(migrated, worker)  # waiting for hour H
        conn.commit()
        worker.join(timeout=60)
        assert errors == []
        assert _predictions(conn, hour, after + timedelta(hours=1)) == together


def test_training_budget_counts_the_filled_minutes_of_sparse_streams() -> None:
    """A channel with a message every 20 minutes for a week is one stream of ~10 k minutes once
    silent minutes are filled, though it has only ~500 minutes with chat."""
    from ml.warehouse import _sessions, _within_grid_budget

    week = pd.date_range("2026-03-01", periods=504, freq="20min", tz="UTC")
    busy = pd.date_range("2026-03-01", periods=600, freq="1min", tz="UTC")
    minutes = pd.concat([
        pd.DataFrame({"channel": "sparse", "minute_start": week}),
        pd.DataFrame({"channel": "busy", "minute_start": busy}),
    ], ignore_index=True)  # fmt: skip
    minutes["stream_id"] = _sessions(minutes)
    kept = _within_grid_budget(minutes, ["busy", "sparse"], max_minutes=5_000)
    assert set(kept["channel"]) == {"busy"}
    assert set(_within_grid_budget(minutes, ["busy", "sparse"], 20_000)["channel"]) == {
        "busy",
        "sparse",
    }
    assert _within_grid_budget(minutes, ["sparse", "busy"], 5_000).empty  # order is kept


def test_sessions_split_where_int_stream_sessions_splits() -> None:
    """Minutes with chat 29 minutes apart stay one stream; 30 minutes apart start a new one, as
    in the dbt model's unit test."""
    from ml.warehouse import _sessions

    starts = ["10:00", "10:29", "10:59", "11:00"]
    minutes = pd.DataFrame({
        "channel": "c", "minute_start": pd.to_datetime([f"2026-03-01 {t}Z" for t in starts]),
    })  # fmt: skip
    streams = _sessions(minutes).tolist()
    assert streams[0] == streams[1] != streams[2] == streams[3]


def test_the_marts_refresh_the_span_an_hour_rewrites() -> None:
    """`fct_chat_windows` re-reads hype for the minutes a run rewrites before its start."""
    import re
    from pathlib import Path

    from ml.warehouse import SESSION_GAP

    macros = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "late_flags.sql"
    span = re.search(r"macro hype_rewrite_span\(\) -%\}\s*interval '(\d+) minutes'",
                     macros.read_text())  # fmt: skip
    assert span is not None and timedelta(minutes=int(span.group(1))) == SESSION_GAP


def test_a_burst_still_running_at_the_hours_end_counts_in_that_hours_features(
    migrated: PgUrl,
) -> None:
    """An emote surges for an hour from 10:15, growing fast enough to stay a burst. Hour 10's
    bursts run cannot finish it, yet hour 10's hype features count it from when it fired, as
    they do once later hours finish it and as a backfill does."""
    from ml.warehouse import _hype_features, detect_bursts_window

    first, ten, eleven, last = (WEEK + timedelta(hours=h) for h in (8, 10, 11, 13))
    surge = (ten + timedelta(minutes=15), eleven + timedelta(minutes=15))
    minutes = pd.date_range(first, last, freq="min", inclusive="left")
    uses = [int(10 * 1.1 ** ((m - surge[0]) / timedelta(minutes=1)))
            if surge[0] <= m < surge[1] else 1 for m in minutes]  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        _load_surge(conn, minutes, uses, [5000 + u for u in uses])
        for hour in pd.date_range(first, eleven, freq="h", inclusive="left"):
            detect_bursts_window(conn, hour.to_pydatetime(), (hour + timedelta(hours=1)))
        conn.commit()

        def active() -> list[pd.Timestamp]:
            features = _hype_features(conn, ten, eleven)
            return list(features.loc[features["burst_active"] > 0, "minute_start"])

        hour_by_hour = active()
        assert hour_by_hour == list(pd.date_range(surge[0], eleven, freq="min", inclusive="left"))
        for hour in (eleven, eleven + timedelta(hours=1)):
            detect_bursts_window(conn, hour, hour + timedelta(hours=1))
        conn.commit()
        assert conn.execute("select started_at, ended_at from ml.emote_bursts").fetchall() == [
            surge
        ]
        assert active() == hour_by_hour
        conn.execute("delete from ml.emote_bursts; delete from ml.emote_bursts_open")
        detect_bursts_window(conn, first, last)
        conn.commit()
        assert active() == hour_by_hour


def test_a_running_burst_counts_through_quiet_minutes_before_midnight(
    migrated: PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst from 23:45 is still running when hour 00 ends; chat is quiet at 23:58-23:59, which
    the burst runs across. Hour 00's run rewrites 23:30-00:00 in a chunk of its own (the day
    cut): that chunk counts the burst as hour 00's bursts run saw it, quiet minutes included."""
    from ml import warehouse

    day = WEEK + timedelta(days=1)
    first, midnight, one = day - timedelta(hours=3), day, day + timedelta(hours=1)
    surge_from = midnight - timedelta(minutes=15)
    quiet = {midnight - timedelta(minutes=2), midnight - timedelta(minutes=1)}
    minutes = pd.date_range(first, one, freq="min", inclusive="left")
    uses = [0 if m in quiet else int(10 * 1.1 ** ((m - surge_from) / timedelta(minutes=1)))
            if m >= surge_from else 1 for m in minutes]  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        # Many messages a minute: the surge never becomes most of chat, so it stays a burst.
        _load_surge(conn, minutes, uses, [0 if m in quiet else 200_000 + u
                                          for m, u in zip(minutes, uses, strict=True)])  # fmt: skip
        for hour in pd.date_range(first, one, freq="h", inclusive="left"):
            warehouse.detect_bursts_window(conn, hour.to_pydatetime(), hour + timedelta(hours=1))
        conn.commit()
        assert conn.execute("select count(*) from ml.emote_bursts").fetchone() == (0,)

        seen: list[pd.DataFrame] = []
        features = warehouse._hype_features

        def spy(*args, **kwargs) -> pd.DataFrame:
            seen.append(out := features(*args, **kwargs))
            return out

        monkeypatch.setattr(warehouse, "_hype_features", spy)
        warehouse.predict_hype_window(conn, midnight, one)
        conn.commit()
    before_midnight = pd.concat(seen)
    before_midnight = before_midnight[before_midnight["minute_start"] < pd.Timestamp(midnight)]
    active = before_midnight.set_index("minute_start")["burst_active"]
    assert list(active[active > 0].index) == list(
        pd.date_range(surge_from, midnight, freq="min", inclusive="left")
    )
