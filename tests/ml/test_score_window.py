"""Per-message scoring of a window through PostgreSQL, in-process and in worker processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ml import warehouse
from tests.locks import wait_until_blocked
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

START = datetime(2026, 5, 4, 10, tzinfo=UTC)
TEXTS = ["KEKW that was amazing", "this is so boring", "you are trash uninstall", "PogChamp",
         "i love this stream <3", "no", "LUL what", "go touch grass idiot"]  # fmt: skip


def _staging(conn: psycopg.Connection, n: int) -> None:
    """`staging.stg_raw__chat_events` with the columns the scorers read (dbt builds the real
    view; its own tests cover it)."""
    conn.execute("create schema if not exists staging")
    conn.execute(
        "create table staging.stg_raw__chat_events (channel text, event_id text,"
        " sent_at timestamptz, body text, event_type text)"
    )
    with conn.cursor().copy("copy staging.stg_raw__chat_events from stdin") as copy:
        for i in range(n):
            copy.write_row((f"chan{i % 3}", f"m{i:05d}", START + timedelta(seconds=i * 3),
                            f"{TEXTS[i % len(TEXTS)]} {i}", "message"))  # fmt: skip
        copy.write_row(("chan0", "n1", START, None, "notice"))  # not a message: not scored
    conn.commit()


def _scores(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(f"select * from {table} order by channel, event_id").fetchall()


@pytest.mark.parametrize(
    ("writer", "table"),
    [
        (warehouse.score_sentiment_window, "ml.message_sentiment"),
        (warehouse.score_toxicity_window, "ml.message_toxicity"),
    ],
)
def test_worker_processes_write_the_same_rows_as_in_process(
    migrated: PgUrl, monkeypatch: pytest.MonkeyPatch, writer, table: str
) -> None:
    monkeypatch.setattr(warehouse, "BATCH_SIZE", 97)  # several batches, the last one short
    end = START + timedelta(hours=1)
    with psycopg.connect(migrated.libpq()) as conn:
        _staging(conn, 1_000)
        monkeypatch.setenv(warehouse.SCORE_WORKERS_ENV, "0")
        in_process = writer(conn, START, end)
        conn.commit()
        expected = _scores(conn, table)
        monkeypatch.setenv(warehouse.SCORE_WORKERS_ENV, "2")
        pooled = writer(conn, START, end)
        conn.commit()
        assert _scores(conn, table) == expected
    assert in_process.rows == pooled.rows == len(expected) == 1_000
    assert len({row[3] for row in expected}) > 1  # scores vary with the text


def test_scored_batches_keep_order_and_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warehouse.SCORE_WORKERS_ENV, "2")
    batches = [[("c", f"{b}-{i}", None, TEXTS[(b + i) % len(TEXTS)]) for i in range(5)]
               for b in range(7)]  # fmt: skip
    direct = [warehouse.sentiment_rows([r[3] for r in rows]) for rows in batches]
    out = list(warehouse._scored_batches(iter(batches), warehouse.sentiment_rows))
    assert [rows for rows, _ in out] == batches
    assert [scored for _, scored in out] == direct


@pytest.mark.parametrize(
    ("writer", "table"),
    [
        (warehouse.score_sentiment_window, "ml.message_sentiment"),
        (warehouse.score_toxicity_window, "ml.message_toxicity"),
    ],
)
def test_a_message_whose_kept_copy_moved_hours_is_scored_where_it_now_is(
    migrated: PgUrl, writer, table: str
) -> None:
    """Hour 10 scored a message's copy stamped 10:59:59.9; loading hour 11 kept a better copy
    stamped 11:00:00.1 and dropped the first. Hour 11's scores replace the stale row instead
    of failing on its key, and so does a rerun."""
    end, later = START + timedelta(hours=1), START + timedelta(hours=2)
    with psycopg.connect(migrated.libpq()) as conn:
        _staging(conn, 0)
        moved = ("chan0", "m1", "KEKW", "message")
        rows = "insert into staging.stg_raw__chat_events values (%s, %s, %s, %s, %s)"
        conn.execute(rows, (*moved[:2], end - timedelta(milliseconds=100), *moved[2:]))
        writer(conn, START, end)
        conn.execute("delete from staging.stg_raw__chat_events")
        conn.execute(rows, (*moved[:2], end + timedelta(milliseconds=100), *moved[2:]))
        for _ in range(2):
            writer(conn, end, later)
            conn.commit()
            stored = conn.execute(f"select event_id, sent_at from {table}").fetchall()
            assert stored == [("m1", end + timedelta(milliseconds=100))]


def test_two_runs_scoring_one_hour_at_once_take_turns(migrated: PgUrl) -> None:
    """A backfill and the schedule score the same hour: the second waits for the first to
    commit, then replaces its rows, instead of failing on their keys."""
    import threading

    end = START + timedelta(hours=1)
    errors: list[BaseException] = []

    def second_run() -> None:
        try:
            with psycopg.connect(migrated.libpq()) as other:
                warehouse.score_sentiment_window(other, START, end)
                other.commit()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with psycopg.connect(migrated.libpq()) as conn:
        _staging(conn, 300)
        warehouse.score_sentiment_window(conn, START, end)
        conn.commit()
        alone = _scores(conn, "ml.message_sentiment")
        conn.execute("delete from ml.message_sentiment")
        conn.commit()
        conn.execute("select 1")  # an open transaction: the writer's block becomes a savepoint
        warehouse.score_sentiment_window(conn, START, end)  # so its writes stay uncommitted
        worker = threading.Thread(target=second_run)
        worker.start()
        wait_until_blocked(migrated, worker)  # waiting for the first run
        conn.commit()
        worker.join(timeout=60)
        assert errors == []
        assert _scores(conn, "ml.message_sentiment") == alone
