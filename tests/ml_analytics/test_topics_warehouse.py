"""Stream topic shifts through PostgreSQL: the daily asset writes each stream's topic shift from
the channel's previous stream.

The dbt relations the writer reads are created here with the columns it reads (dbt builds the
real ones; the dbt tests cover those models).
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from ml.topics import MODEL_VERSION
from ml.warehouse import build_topic_shifts
from tests.ml_analytics.test_topics import _chat
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration


def _three_streams() -> pd.DataFrame:
    """A food-and-boss stream, the same chat a day later, then food talk only a day after."""
    chat = _chat()
    same = chat.assign(stream_id="s2", sent_at=chat["sent_at"] + pd.Timedelta(days=1))
    food_only = chat[chat["text"].str.contains("pizza|cheese|oven|crust|dough")]
    other = food_only.assign(stream_id="s3", sent_at=food_only["sent_at"] + pd.Timedelta(days=2))
    return pd.concat([chat, same, other], ignore_index=True)


def _load(conn: psycopg.Connection, chat: pd.DataFrame) -> None:
    conn.execute("create schema if not exists intermediate; create schema if not exists staging")
    conn.execute(
        "create table intermediate.int_stream_sessions"
        " (stream_id text, channel text, started_at timestamptz, ended_at timestamptz)"
    )
    conn.execute(
        "create table staging.stg_raw__chat_events (chat_event_key text, event_id text,"
        " channel text, sent_at timestamptz, event_type text, user_login text, body text,"
        " subscriber_months int)"
    )
    conn.execute(
        "create table intermediate.int_emote_occurrences (emote_occurrence_key text,"
        " chat_event_key text, sent_at timestamptz, emote_code text)"
    )
    spans = chat.groupby("stream_id")["sent_at"].agg(["min", "max"])
    for stream_id, span in spans.iterrows():
        conn.execute(
            "insert into intermediate.int_stream_sessions values (%s, 'alpha', %s, %s)",
            (f"alpha|{stream_id}", span["min"], span["max"] + pd.Timedelta(seconds=1)),
        )
    for i, row in enumerate(chat.itertuples(index=False)):
        key = f"alpha|m{i}"
        conn.execute(
            "insert into staging.stg_raw__chat_events"
            " values (%s, %s, 'alpha', %s, 'message', %s, %s, null)",
            (key, f"m{i}", row.sent_at, row.user_login, row.text),
        )
        for k, code in enumerate(row.emotes):
            conn.execute(
                "insert into intermediate.int_emote_occurrences values (%s, %s, %s, %s)",
                (f"{key}|{k}", key, row.sent_at, code),
            )
    conn.commit()


def _shifts(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select stream_id, previous_stream_id, shift_from_previous_stream, model_version"
        " from ml.stream_topic_shifts order by first_chat_minute_at"
    ).fetchall()


def test_topic_shift_between_consecutive_streams_is_written_and_rewritten_alike(
    migrated: PgUrl,
) -> None:
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _three_streams())
        result = build_topic_shifts(conn)
        conn.commit()
        rows = _shifts(conn)
        assert [(r[0], r[1]) for r in rows] == [
            ("alpha|s1", None), ("alpha|s2", "alpha|s1"), ("alpha|s3", "alpha|s2"),
        ]  # fmt: skip
        first, same, food_only = (r[2] for r in rows)
        assert first is None
        assert same < 0.05  # the same chat again
        assert food_only > same + 0.2  # the boss fight is gone
        assert {r[3] for r in rows} == {MODEL_VERSION}
        assert result.summary == {"streams": 3, "shifts_measured": 2}

        build_topic_shifts(conn)  # a rerun replaces, never appends
        conn.commit()
        assert _shifts(conn) == rows
