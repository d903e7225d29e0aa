"""Hour-by-hour dbt runs end with the marts of a full rebuild, even for facts that only the next
hour reveals: a deletion or timeout just after the hour, a burst that runs across its end.

The hourly job builds hour H before hour H+1 is loaded, so what H+1 says about H's rows has to be
added when H+1 is built. Real PostgreSQL and real `dbt build`, on hand-written IRC lines.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition, stale_hours
from orchestration.partitions import MAX_DAGSTER_RANGE, contiguous_ranges
from tests.dbt_cli import run_dbt
from tests.edge_copies import SKEW, land_copies_across_edge, land_copy
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

TEN = datetime(2026, 5, 3, 10, tzinfo=UTC)
ELEVEN = TEN + timedelta(hours=1)
HOURLY = ["tag:raw_staging", "tag:hourly_intermediate", "tag:hourly_marts"]


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def _privmsg(msg_id: str, login: str, at: datetime, text: str) -> str:
    return (f"@badges=;color=;display-name={login};emotes=;id={msg_id};mod=0;room-id=7;"
            f"subscriber=0;tmi-sent-ts={_ms(at)};user-id={abs(hash(login)) % 10**6};user-type="
            f" :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #chan :{text}")  # fmt: skip


def _chat() -> list[tuple[datetime, str]]:
    lines = [(TEN + timedelta(minutes=m, seconds=5), _privmsg(f"f{m}", f"filler{m % 7}",
              TEN + timedelta(minutes=m, seconds=5), "what game is this"))
             for m in range(120)]  # fmt: skip
    late_timeout_victim = TEN + timedelta(minutes=58)
    late_deleted = TEN + timedelta(minutes=59, seconds=30)
    lines += [
        (late_timeout_victim, _privmsg("m1", "rude", late_timeout_victim, "shut up idiot")),
        (late_deleted, _privmsg("m2", "spammer", late_deleted, "buy followers")),
    ]
    deleted_at, timed_out_at = ELEVEN + timedelta(seconds=10), ELEVEN + timedelta(minutes=1)
    lines += [
        (deleted_at, f"@login=spammer;room-id=;target-msg-id=m2;tmi-sent-ts={_ms(deleted_at)}"
                     " :tmi.twitch.tv CLEARMSG #chan :buy followers"),
        (timed_out_at, f"@ban-duration=600;room-id=7;target-user-id=1;"
                       f"tmi-sent-ts={_ms(timed_out_at)} :tmi.twitch.tv CLEARCHAT #chan :rude"),
    ]  # fmt: skip
    # A deletion two hours after its message (filler f5, 10:05:05): too late to count, whichever
    # way the hours are built.
    too_late = ELEVEN + timedelta(hours=1, minutes=10)
    tags = f"@login=filler5;room-id=;target-msg-id=f5;tmi-sent-ts={_ms(too_late)}"
    lines.append((too_late, f"{tags} :tmi.twitch.tv CLEARMSG #chan :x"))
    return sorted(lines)


def _dbt(url: PgUrl, tmp: Path, *args: str) -> None:
    run_dbt(url, tmp, "build", "--select", *HOURLY, "--exclude", "test_type:unit", *args)


def _window(start: datetime) -> str:
    end = start + timedelta(hours=1)
    return json.dumps({"window_start": start.isoformat(), "window_end": end.isoformat()})


def _write_hype(
    conn: psycopg.Connection, start: datetime, end: datetime, minutes: list[tuple]
) -> None:
    """What an hourly hype run leaves: [start, end) replaced by (minute after TEN, probability,
    label) rows."""
    conn.execute(
        "delete from ml.hype_predictions where window_start_at >= %s and window_start_at < %s",
        (start, end),
    )
    for minute, probability, label in minutes:
        conn.execute(
            "insert into ml.hype_predictions (channel, window_start_at, hype_probability,"
            " is_hype_label, model_version) values ('chan', %s, %s, %s, 'hype-test')",
            (TEN + timedelta(minutes=minute), probability, label),
        )


def _marts(conn: psycopg.Connection) -> tuple[list[tuple], list[tuple]]:
    messages = conn.execute(
        "select event_id, is_deleted, was_author_moderated_after from marts.fct_chat_messages"
        " order by sent_at, event_id"
    ).fetchall()
    windows = conn.execute(
        "select channel, window_seconds, window_start_at, message_count, is_burst_window,"
        " next_minute_hype_probability, is_hype_moment from marts.fct_chat_windows"
        " order by 1, 2, 3"
    ).fetchall()
    return messages, windows


def test_hourly_runs_equal_a_full_rebuild_for_facts_the_next_hour_reveals(
    migrated: PgUrl, tmp_path: Path
) -> None:
    with HourlyWriter(tmp_path / "landing", "irc") as writer:
        for at, line in _chat():
            writer.write("chan", at, line)
    # A burst from 10:50 to 11:05, seen to end at 11:05: the hour-11 bursts asset writes it.
    burst = ("b-1", "chan", "Kappa", TEN + timedelta(minutes=50), TEN + timedelta(minutes=52),
             ELEVEN + timedelta(minutes=5), ELEVEN, 30, 1.0, 9.0, "bursts-test",
             ELEVEN + timedelta(minutes=5))  # fmt: skip

    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, TEN, ELEVEN, files_for_window(tmp_path / "landing", TEN, ELEVEN))
        # Hour 10's hype run: chat seemed to stop at 10:40-10:44, and 10:59's label is unknown.
        hype_minutes = [m for m in range(60) if not 40 <= m < 45]
        _write_hype(conn, TEN, ELEVEN, [(m, 0.1, False if m != 59 else None) for m in hype_minutes])
        conn.commit()
        _dbt(migrated, tmp_path, "--vars", _window(TEN))
        noon = ELEVEN + timedelta(hours=1)
        load_partition(conn, ELEVEN, noon, files_for_window(tmp_path / "landing", ELEVEN, noon))
        conn.execute(
            "insert into ml.emote_bursts (burst_id, channel, emote_code, started_at, fired_at,"
            " ended_at, peak_at, peak_uses, baseline_uses, score, model_version, closed_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", burst)  # fmt: skip
        # Hour 11's hype run rewrites from 10:30, as the chat after 11:00 tells more about it.
        rewrite = [(m, 0.7 if m == 59 else 0.1, m == 59) for m in range(30, 60)]
        rewrite += [(m, 0.1, False if m < 119 else None) for m in range(60, 120)]
        _write_hype(conn, TEN + timedelta(minutes=30), noon, rewrite)
        conn.commit()
        _dbt(migrated, tmp_path, "--vars", _window(ELEVEN))
        one = noon + timedelta(hours=1)
        load_partition(conn, noon, one, files_for_window(tmp_path / "landing", noon, one))
        _dbt(migrated, tmp_path, "--vars", _window(noon))
        hourly = _marts(conn)
        conn.commit()  # end the read so the rebuild can replace the tables
        hype = {w[2]: (w[5], w[6]) for w in hourly[1] if w[1] == 60}
        assert hype[TEN + timedelta(minutes=59)] == (0.7, False)  # rewritten after it was built
        assert hype[TEN + timedelta(minutes=42)] == (0.1, False)  # scored only by the rewrite
        assert hype[ELEVEN] == (0.1, True)
        flags = {event_id: (deleted, moderated) for event_id, deleted, moderated in hourly[0]}
        assert flags["m2"] == (True, False)  # deleted 40 s later, in the next hour
        assert flags["m1"] == (False, True)  # author timed out 3 minutes later
        assert sum(d or m for d, m in flags.values()) == 2
        burst_minutes = [w for w in hourly[1] if w[1] == 60 and w[4]]
        assert [w[2] for w in burst_minutes] == [TEN + timedelta(minutes=m) for m in range(50, 65)]

        _dbt(migrated, tmp_path, "--full-refresh")
        assert _marts(conn) == hourly


def test_a_rerun_of_a_changed_next_hour_clears_what_it_flagged_before(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Hour 11 held m2's deletion, rude's timeout and the end of a burst from 10:50. Its landing
    file is then replaced by one without the moderation (a capture fixed), and its bursts run
    no longer finds the burst. Running hour 11 again clears what its first run flagged in hour
    10, as a full rebuild does."""
    landing, noon = tmp_path / "landing", ELEVEN + timedelta(hours=1)
    lines = _chat()
    with HourlyWriter(landing, "irc") as writer:
        for at, line in lines:
            writer.write("chan", at, line)
    burst = ("b-1", "chan", "Kappa", TEN + timedelta(minutes=50), TEN + timedelta(minutes=52),
             ELEVEN + timedelta(minutes=5), ELEVEN, 30, 1.0, 9.0, "bursts-test",
             ELEVEN + timedelta(minutes=5))  # fmt: skip

    def flagged(conn: psycopg.Connection) -> tuple[set[str], list[datetime]]:
        messages, windows = _marts(conn)
        return ({event_id for event_id, deleted, moderated in messages if deleted or moderated},
                [w[2] for w in windows if w[1] == 60 and w[4]])  # fmt: skip

    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        for start in (TEN, ELEVEN):
            end = start + timedelta(hours=1)
            load_partition(conn, start, end, files_for_window(landing, start, end))
            if start == ELEVEN:
                conn.execute(
                    "insert into ml.emote_bursts (burst_id, channel, emote_code, started_at,"
                    " fired_at, ended_at, peak_at, peak_uses, baseline_uses, score,"
                    " model_version, closed_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s)", burst)  # fmt: skip
            _dbt(migrated, tmp_path, "--vars", _window(start))
        messages, burst_minutes = flagged(conn)
        assert messages == {"m1", "m2"} and len(burst_minutes) == 15

        for landed in files_for_window(landing, ELEVEN, noon):
            landed.path.unlink()
        with HourlyWriter(landing, "irc") as writer:
            for at, line in lines:
                if ELEVEN <= at < noon and " CLEAR" not in line:
                    writer.write("chan", at, line)
        conn.execute("delete from ml.emote_bursts")
        load_partition(conn, ELEVEN, noon, files_for_window(landing, ELEVEN, noon))
        _dbt(migrated, tmp_path, "--vars", _window(ELEVEN))
        hourly = _marts(conn)
        assert flagged(conn) == (set(), [])
        _dbt(migrated, tmp_path, "--full-refresh")
        assert _marts(conn) == hourly


def _new_chatters(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select 'activity', channel, window_seconds, window_start_at, new_chatter_count"
        " from intermediate.int_chat_window_activity union all"
        " select 'mart', channel, window_seconds, window_start_at, new_chatter_count"
        " from marts.fct_chat_windows order by 1, 2, 3, 4"
    ).fetchall()


def test_an_earlier_hour_loaded_late_takes_its_new_chatters_from_the_later_hour(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """A VOD export or backfill loads 10:00 after 11:00 was built: the chatters of both hours
    are new at 10:00, and 11:00 no longer counts them, as a full rebuild says."""
    with HourlyWriter(tmp_path / "landing", "irc") as writer:
        for at, line in _chat():
            writer.write("chan", at, line)
    noon = ELEVEN + timedelta(hours=1)
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, ELEVEN, noon, files_for_window(tmp_path / "landing", ELEVEN, noon))
        _dbt(migrated, tmp_path, "--vars", _window(ELEVEN))
        eleven_alone = sum(row[4] for row in _new_chatters(conn) if row[2] == 300)
        assert eleven_alone == 2 * 7  # the seven fillers, once in the activity, once in the mart
        load_partition(conn, TEN, ELEVEN, files_for_window(tmp_path / "landing", TEN, ELEVEN))
        conn.commit()
        _dbt(migrated, tmp_path, "--vars", _window(TEN))
        late = _new_chatters(conn)
        conn.commit()
        assert not [row for row in late if row[3] >= ELEVEN and row[4]]
        _dbt(migrated, tmp_path, "--vars", _window(TEN))  # a rerun changes nothing
        assert _new_chatters(conn) == late
        conn.commit()
        _dbt(migrated, tmp_path, "--full-refresh")
        assert _new_chatters(conn) == late


def _first_seen(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select channel, user_login, first_message_at from intermediate.int_chatter_first_seen"
        " order by 1, 2"
    ).fetchall()


def test_a_first_message_replaced_by_a_later_copy_moves_the_chatter_to_it(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """bob's only message, twice. In `alpha`, a VOD export stamps it 12:59:59.9 and IRC 13:00:00.1:
    loading 13:00 keeps the IRC copy and drops the one hour 12 was built with. In `beta`, hour 12
    is built with the export's copy at 12:30:00.0 before IRC's, at 12:30:00.4, lands. The hours
    the loads note as stale run again, as the sensor runs them, and bob is new where a full
    rebuild says: at 13:00 in alpha, 12:30:00.4 in beta."""
    landing = tmp_path / "landing"
    noon, one, two = (
        ELEVEN + timedelta(hours=1),
        ELEVEN + timedelta(hours=2),
        ELEVEN + timedelta(hours=3),
    )
    land_copies_across_edge(landing, one, before="gql", after="irc", channel="alpha")
    half_past = noon + timedelta(minutes=30)
    land_copy(landing, "gql", "beta", half_past)
    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        load_partition(conn, noon, one, files_for_window(landing, noon, one))
        _dbt(migrated, tmp_path, "--vars", _window(noon))
        land_copy(landing, "irc", "beta", half_past + timedelta(milliseconds=400))
        load_partition(conn, one, two, files_for_window(landing, one, two))
        _dbt(migrated, tmp_path, "--vars", _window(one))
        ((start, end, _),) = contiguous_ranges(stale_hours(conn), MAX_DAGSTER_RANGE)
        assert (start, end) == (noon, two)
        load_partition(conn, start, end, files_for_window(landing, start, end))
        window = {"window_start": start.isoformat(), "window_end": end.isoformat()}
        _dbt(migrated, tmp_path, "--vars", json.dumps(window))
        hourly = _first_seen(conn), _new_chatters(conn)

        assert hourly[0] == [("alpha", "bob", one + SKEW),
                             ("beta", "bob", half_past + timedelta(milliseconds=400))]  # fmt: skip
        new_at = {(row[0], row[1], row[2], row[3]) for row in hourly[1] if row[4]}
        assert {(kind, channel, start) for kind, channel, size, start in new_at if size == 60} == {
            (kind, channel, at) for kind in ("activity", "mart")
            for channel, at in (("alpha", one), ("beta", half_past))
        }  # fmt: skip
        _dbt(migrated, tmp_path, "--full-refresh")
        assert (_first_seen(conn), _new_chatters(conn)) == hourly


def test_a_chatter_whose_first_messages_are_gone_moves_on_or_leaves(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Hour 10's landing file is withdrawn (a bad import) and hour 10 runs again alone: carol,
    who wrote again at 11:10, is first seen then; dave, who never did, is no chatter any more."""
    with HourlyWriter(tmp_path / "landing", "irc") as writer:
        for msg_id, login, at in [("c1", "carol", TEN + timedelta(minutes=10)),
                                  ("d1", "dave", TEN + timedelta(minutes=20)),
                                  ("c2", "carol", ELEVEN + timedelta(minutes=10))]:  # fmt: skip
            writer.write("chan", at, _privmsg(msg_id, login, at, "hi"))
    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        for start in (TEN, ELEVEN):
            end = start + timedelta(hours=1)
            load_partition(conn, start, end, files_for_window(tmp_path / "landing", start, end))
            _dbt(migrated, tmp_path, "--vars", _window(start))
        for landing in files_for_window(tmp_path / "landing", TEN, ELEVEN):
            landing.path.unlink()
        load_partition(conn, TEN, ELEVEN, [])
        _dbt(migrated, tmp_path, "--vars", _window(TEN))
        hourly = _first_seen(conn)
        assert hourly == [("chan", "carol", ELEVEN + timedelta(minutes=10))]
        _dbt(migrated, tmp_path, "--full-refresh")
        assert _first_seen(conn) == hourly
