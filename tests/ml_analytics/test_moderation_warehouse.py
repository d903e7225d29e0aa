"""Moderation risk through PostgreSQL: the week's model, learned from the warehouse's own
timeouts, learns what a channel's moderators act on, is stored and reused, and scores the
channels that have moderation.

`staging.stg_raw__chat_events` and `intermediate.int_chat_window_activity` are created here as
tables with the columns the writer reads (dbt builds the real ones; the dbt tests cover them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest
from sklearn.metrics import roc_auc_score

from ml import moderation
from ml.warehouse import score_moderation_window
from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

WEEK = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
SCORED_HOUR = WEEK + timedelta(hours=20)
WORDS = [
    "gg",
    "nice",
    "play",
    "lol",
    "what",
    "was",
    "that",
    "clip",
    "it",
    "chat",
    "is",
    "so",
    "fast",
    "today",
    "run",
    "again",
]
# Only the strict channel's moderators act on this invented word; it is no insult anywhere.
HOUSE_RULE_WORD = "spoilerzz"


def _chat(channel: str, hour: datetime, seed: int, enforce: bool) -> list[tuple]:
    """An hour of a channel's chat; where `enforce`, each message with the house-rule word gets
    its author timed out three seconds later. Rows: (channel, event_id, event_type, sent_at,
    user_login, body, target_user_login)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    seconds = np.sort(rng.uniform(0, 3590, 400))
    for n, second in enumerate(seconds):
        user = f"viewer{int(rng.integers(0, 60))}"
        words = list(rng.choice(WORDS, int(rng.integers(2, 7))))
        ruled = rng.random() < 0.06
        if ruled:
            words.insert(int(rng.integers(0, len(words))), HOUSE_RULE_WORD)
        at = hour + timedelta(seconds=float(second))
        event_id = f"{channel}-{seed}-{n}"
        rows.append((channel, event_id, "message", at, user, " ".join(words), None))
        if ruled and enforce:
            rows.append((channel, f"{event_id}-t", "timeout", at + timedelta(seconds=3), None, None,
                         user))  # fmt: skip
    return rows


def _load(conn: psycopg.Connection, rows: list[tuple]) -> None:
    conn.execute("create schema if not exists staging")
    conn.execute("create schema if not exists intermediate")
    conn.execute(
        "create table if not exists staging.stg_raw__chat_events (channel text, event_id text,"
        " event_type text, sent_at timestamptz, user_login text, body text,"
        " target_user_login text, target_message_id text)"
    )
    with conn.cursor().copy(
        "copy staging.stg_raw__chat_events (channel, event_id, event_type, sent_at, user_login,"
        " body, target_user_login) from stdin"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute("drop table if exists intermediate.int_chat_window_activity")
    conn.execute(
        """
        create table intermediate.int_chat_window_activity as
        select channel, 300 as window_seconds,
            date_bin(interval '300 seconds', sent_at, timestamptz '2000-01-01') as window_start_at,
            count(*) filter (where event_type = 'message') as message_count,
            count(*) filter (where event_type in ('timeout', 'ban', 'delete'))
                as moderation_action_count
        from staging.stg_raw__chat_events group by 1, 3
        """
    )
    conn.commit()


def _history() -> list[tuple]:
    rows: list[tuple] = []
    for day in range(1, 22):
        hour = WEEK - timedelta(days=day) + timedelta(hours=20)
        rows += _chat("strict", hour, seed=day, enforce=True)
        rows += _chat("relaxed", hour, seed=100 + day, enforce=False)
    return rows


def _risk(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "select risk.channel, risk.event_id, risk.moderation_probability,"
        " risk.model_version, events.body from ml.message_moderation_risk as risk"
        " join staging.stg_raw__chat_events as events using (channel, event_id) order by 1, 2"
    ).fetchall()
    return pd.DataFrame(rows, columns=["channel", "event_id", "probability", "version", "body"])


def test_the_channels_own_rule_is_learned_stored_and_reused(migrated: PgUrl) -> None:
    scored = _chat("strict", SCORED_HOUR, seed=999, enforce=True)
    scored += _chat("relaxed", SCORED_HOUR, seed=998, enforce=False)
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _history() + scored)
        first = score_moderation_window(conn, SCORED_HOUR, SCORED_HOUR + timedelta(hours=1))
        conn.commit()
        stored = conn.execute(
            "select week_start_at, training_positives >= %s, training_channels,"
            " scored_channels, model is not null from ml.moderation_models",
            (moderation.MIN_POSITIVES,),
        ).fetchall()
        # Learned from and scoring the strict channel; the relaxed one, whose moderators never
        # acted, is neither in the training sample nor scored.
        assert stored == [(WEEK, True, 1, ["strict"], True)]
        assert first.summary == {
            "channels_scored": 1,
            "models_fitted": 1,
            "later_hours_marked_stale": 0,
        }
        risk = _risk(conn)
        messages = [r for r in scored if r[2] == "message" and r[0] == "strict"]
        assert first.rows == len(risk) == len(messages)
        assert set(risk["channel"]) == {"strict"}
        assert (risk["version"] == moderation.MODEL_VERSION).all()
        assert risk["probability"].between(0, 1).all()

        strict = risk[risk["channel"] == "strict"]
        ruled = strict["body"].str.contains(HOUSE_RULE_WORD)
        assert roc_auc_score(ruled, strict["probability"]) > 0.95
        # Calibrated: the mean probability of the ruled messages is close to the truth (all
        # were acted on), of the others close to zero.
        assert strict.loc[ruled, "probability"].mean() > 0.7
        assert strict.loc[~ruled, "probability"].mean() < 0.1

        # A rerun reuses the stored models and writes the same rows.
        again = score_moderation_window(conn, SCORED_HOUR, SCORED_HOUR + timedelta(hours=1))
        conn.commit()
        assert again.summary["models_fitted"] == 0
        pd.testing.assert_frame_equal(_risk(conn), risk)

        # Another toxicity model (a new version) means the stored model is fitted again.
        from ml import toxicity

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(toxicity.default_model(), "version", toxicity.MODEL_VERSION + "-next")
            refit = score_moderation_window(conn, SCORED_HOUR, SCORED_HOUR + timedelta(hours=1))
            conn.commit()
        assert refit.summary["models_fitted"] == 1

        # The week's scored hour is built. An earlier hour scored again marks it stale only when
        # the week's history changed, not for a toxicity version (that refits when scored).
        from ingestion.load import stale_hours

        conn.execute("insert into raw.partition_loads (partition_start, files, events, rejects,"
                     " content_hash) values (%s, 1, 10, 0, 'built')", (SCORED_HOUR,))  # fmt: skip
        earlier = SCORED_HOUR - timedelta(days=3)
        same = score_moderation_window(conn, earlier, earlier + timedelta(hours=1))
        assert same.summary["later_hours_marked_stale"] == 0 and stale_hours(conn) == []
        conn.execute("insert into raw.partition_loads (partition_start, files, events, rejects,"
                     " content_hash) values (%s, 1, 10, 0, 'late')", (earlier,))  # fmt: skip
        changed = score_moderation_window(conn, earlier, earlier + timedelta(hours=1))
        assert changed.summary["later_hours_marked_stale"] == 1
        assert [hour for hour, _ in stale_hours(conn)] == [SCORED_HOUR]


def test_without_moderation_in_the_history_nothing_is_scored(migrated: PgUrl) -> None:
    with psycopg.connect(migrated.libpq()) as conn:
        _load(conn, _chat("relaxed", SCORED_HOUR - timedelta(days=3), seed=5, enforce=False)
              + _chat("relaxed", SCORED_HOUR, seed=6, enforce=False))  # fmt: skip
        result = score_moderation_window(conn, SCORED_HOUR, SCORED_HOUR + timedelta(hours=1))
        conn.commit()
        assert result.rows == 0
        assert result.summary == {
            "channels_scored": 0,
            "models_fitted": 1,
            "later_hours_marked_stale": 0,
        }
        assert conn.execute(
            "select training_positives, scored_channels, model is null from ml.moderation_models"
        ).fetchall() == [(0, [], True)]
