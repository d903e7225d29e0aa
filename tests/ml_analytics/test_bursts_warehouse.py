"""Emote bursts through PostgreSQL: a burst across an hour boundary is written once, whole, by
the hour it is seen to end in; reruns and a one-call backfill write the same rows as hourly runs.

The two intermediate tables the writer reads are created here with the columns it reads (dbt
builds the real ones; the dbt tests cover those models).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ml.warehouse import _hours_near_chat, detect_bursts_window
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)  # chat from 08:00 to 13:00
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
# (first minute, last minute) of surges of "Kappa" at 30 uses a minute over a baseline of 1.
ACROSS = (datetime(2026, 3, 2, 10, 56, tzinfo=UTC), datetime(2026, 3, 2, 11, 3, tzinfo=UTC))
INSIDE = (datetime(2026, 3, 2, 11, 30, tzinfo=UTC), datetime(2026, 3, 2, 11, 32, tzinfo=UTC))


def _tables(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists intermediate")
    conn.execute(
        "create table intermediate.int_emote_occurrences (channel text, emote_code text,"
        " sent_at timestamptz)"
    )
    conn.execute(
        "create table intermediate.int_chat_window_activity (channel text, window_seconds int,"
        " window_start_at timestamptz, message_count bigint)"
    )


def _load(conn: psycopg.Connection) -> None:
    _tables(conn)
    occurrences, minutes = [], []
    minute = T0
    while minute < T0 + 5 * HOUR:
        surging = any(a <= minute <= b for a, b in (ACROSS, INSIDE))
        uses = 30 if surging else 1
        occurrences += [("chan", "Kappa", minute + timedelta(seconds=s)) for s in range(uses)]
        minutes.append(("chan", 60, minute, 40 + uses))
        minute += MINUTE
    with conn.cursor() as cur:
        cur.executemany("insert into intermediate.int_emote_occurrences values (%s, %s, %s)",
                        occurrences)  # fmt: skip
        cur.executemany(
            "insert into intermediate.int_chat_window_activity values (%s, %s, %s, %s)", minutes
        )
    conn.commit()


def _bursts(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select burst_id, started_at, ended_at, peak_at, peak_uses, closed_at, score"
        " from ml.emote_bursts order by started_at"
    ).fetchall()


def test_bursts_are_written_once_by_the_hour_they_end_in(migrated: PgUrl) -> None:
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn)
        ten, eleven = ACROSS[0].replace(minute=0), ACROSS[1].replace(minute=0)
        first = detect_bursts_window(conn, ten, eleven)
        conn.commit()
        assert first.rows == 0  # the surge from 10:56 is still running when hour 10 ends
        second = detect_bursts_window(conn, eleven, eleven + HOUR)
        conn.commit()
        hourly = _bursts(conn)
        assert second.rows == 2
        across, inside = hourly
        # Whole, with an exclusive end one minute after its last minute, owned by hour 11.
        assert across[1:3] == (ACROSS[0], ACROSS[1] + MINUTE)
        assert across[4] == 30 and across[5] == ACROSS[1] + MINUTE
        assert inside[1:3] == (INSIDE[0], INSIDE[1] + MINUTE)

        # Rerunning either hour changes nothing.
        detect_bursts_window(conn, eleven, eleven + HOUR)
        detect_bursts_window(conn, ten, eleven)
        conn.commit()
        assert _bursts(conn) == hourly

        # A backfill of the whole range as one call writes exactly the hourly rows.
        conn.execute("delete from ml.emote_bursts")
        backfill = detect_bursts_window(conn, T0, T0 + 5 * HOUR)
        conn.commit()
        assert backfill.rows == 2
        assert _bursts(conn) == hourly


def test_a_streams_goodbye_and_the_next_streams_hello_are_two_bursts(migrated: PgUrl) -> None:
    """A surge in a stream's last minutes is written once the session gap passes without chat
    (the stream ended), not when the channel next chats; a surge of the same emote at the next
    stream's start is a burst of its own, not one burst over the night between."""
    from ml.streams import SESSION_GAP

    day1, day2 = T0, T0 + timedelta(days=1)
    goodbye = (day1 + timedelta(minutes=55), day1 + timedelta(minutes=59))
    hello = (day2, day2 + timedelta(minutes=3))
    with psycopg.connect(migrated.libpq()) as conn:
        _tables(conn)
        with conn.cursor() as cur:
            for stream_start in (day1, day2):
                for m in range(60):
                    minute = stream_start + m * MINUTE
                    uses = 30 if any(a <= minute <= b for a, b in (goodbye, hello)) else 1
                    cur.executemany(
                        "insert into intermediate.int_emote_occurrences values (%s, %s, %s)",
                        [("chan", "Kappa", minute + timedelta(seconds=s)) for s in range(uses)],
                    )
                    cur.execute(
                        "insert into intermediate.int_chat_window_activity"
                        " values ('chan', 60, %s, %s)", (minute, 40 + uses),
                    )  # fmt: skip
        conn.commit()
        for hour in range(27):  # hour by hour, through the night without chat
            detect_bursts_window(conn, day1 + hour * HOUR, day1 + (hour + 1) * HOUR)
            conn.commit()
        hourly = _bursts(conn)
        assert [(b[1], b[2], b[5]) for b in hourly[:1]] == [
            (goodbye[0], goodbye[1] + MINUTE, goodbye[1] + SESSION_GAP)
        ]
        # The hello burst starts with the stream and is over at the next chat minute. (Its end
        # is the detector's: the goodbye flood is still in the trailing baseline.)
        assert len(hourly) == 2 and hourly[1][1] == hello[0] and hourly[1][5] == hourly[1][2]
        assert hello[0] < hourly[1][2] <= hello[1] + MINUTE
        conn.execute("delete from ml.emote_bursts")
        detect_bursts_window(conn, day1, day1 + 27 * HOUR)  # a backfill writes the same rows
        conn.commit()
        assert _bursts(conn) == hourly
        # ... reading only the hours of each stream and the one its session gap reaches into,
        # not the night between.
        assert _hours_near_chat(conn, day1, day1 + 27 * HOUR) == [
            day1, day1 + HOUR, day2, day2 + HOUR,
        ]  # fmt: skip


def test_an_hour_run_again_on_late_chat_takes_a_burst_a_later_hour_stored(
    migrated: PgUrl,
) -> None:
    """Hour 10's chat from 10:55 lands late. Hours 10 and 11 first ran without it: the surge at
    10:50-10:54 was still running at 10:00's end, and 11:00 showed it over. Run again on the late
    chat, hour 10 sees it end at 10:55 and owns it; hour 11, which stored it, runs again."""
    from ingestion.load import stale_hours

    ten, eleven = T0 + 2 * HOUR, T0 + 3 * HOUR
    surge = (ten + 50 * MINUTE, ten + 54 * MINUTE)
    late = (ten + 55 * MINUTE, eleven)

    def chat(minutes: list[datetime]) -> None:
        uses = [30 if surge[0] <= m <= surge[1] else 1 for m in minutes]
        with conn.cursor() as cur:
            cur.executemany(
                "insert into intermediate.int_emote_occurrences values ('chan', 'Kappa', %s)",
                [(m + timedelta(seconds=s),) for m, n in zip(minutes, uses, strict=True)
                 for s in range(n)],
            )  # fmt: skip
            cur.executemany(
                "insert into intermediate.int_chat_window_activity values ('chan', 60, %s, %s)",
                [(m, 40 + n) for m, n in zip(minutes, uses, strict=True)],
            )
        conn.commit()

    every_minute = [T0 + i * MINUTE for i in range(4 * 60)]
    with psycopg.connect(migrated.libpq()) as conn:
        _tables(conn)
        conn.execute(
            "insert into raw.partition_loads (partition_start, files, events, rejects)"
            " values (%s, 1, 1, 0), (%s, 1, 1, 0)", (ten, eleven),
        )  # fmt: skip
        chat([m for m in every_minute if not late[0] <= m < late[1]])
        for hour in (ten, eleven):
            detect_bursts_window(conn, hour, hour + HOUR)
            conn.commit()
        assert [b[5] for b in _bursts(conn)] == [eleven]  # hour 11 saw it over
        chat([m for m in every_minute if late[0] <= m < late[1]])
        rerun = detect_bursts_window(conn, ten, eleven)
        conn.commit()
        assert [b[5] for b in _bursts(conn)] == [late[0]]
        assert rerun.summary["hours_marked_stale"] == 1
        assert [hour for hour, _ in stale_hours(conn)] == [eleven]
        detect_bursts_window(conn, eleven, eleven + HOUR)  # the stale hour's rerun
        conn.commit()
        hourly = _bursts(conn)
        detect_bursts_window(conn, ten, eleven + HOUR)
        conn.commit()
        assert _bursts(conn) == hourly


def test_hours_long_before_a_rerun_whose_burst_flags_lapse_run_again() -> None:
    """Hour 12's first run stored a burst from 09:40 (a sparse channel: its minutes span hours).
    Its rerun drops it, or finds it starting at 10:50: hours 09 and 10 (before the hour the
    window's own build flags again) held windows it covered and run again. A burst found as it
    was, or one that still starts there, sends nothing back."""
    import pandas as pd

    from ml.warehouse import _hours_whose_burst_flags_lapsed

    noon = datetime(2026, 5, 3, 12, tzinfo=UTC)
    began = noon - timedelta(hours=2, minutes=20)
    stored = [("b1", noon + timedelta(minutes=5), began)]

    def lapsed(found: list[tuple[str, datetime]]) -> list[datetime]:
        closed = pd.DataFrame(found, columns=["burst_id", "started_at"])
        return _hours_whose_burst_flags_lapsed(noon, closed, stored)

    assert lapsed([]) == [noon - 3 * HOUR, noon - 2 * HOUR]
    assert lapsed([("b1", noon - timedelta(minutes=70))]) == [noon - 3 * HOUR, noon - 2 * HOUR]
    assert lapsed([("b1", began)]) == []
    assert lapsed([("b1", began - HOUR)]) == []  # it grew: the new one flags its own windows
