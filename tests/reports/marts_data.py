"""A small, hand-written warehouse: deterministic rows in every mart the report reads.

The marts' tables are created by dbt (so their contracts are the real ones); this module only
inserts rows. It plants what the tests look for: distinctive chatter logins (never to appear in
the published site when pseudonymized), an opted-out chatter who is a top chatter, a burst
author, a moderation target and @mentioned, and a hostile channel and message.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg

HOSTILE_CHANNEL = '<script>alert(1)</script>"; drop table x; --'
HOSTILE_MESSAGE = (
    'PogChamp <img src=x onerror=alert(1)><script>alert(1)</script>"; drop table marts.x; --'
)
OPTED_OUT = "zz_optout_olga"
CHANNELS = ["alpha", "beta", HOSTILE_CHANNEL]
LOGINS = [f"zz_chatter_{i:03d}" for i in range(40)] + [OPTED_OUT]
EMOTES = [
    ("Kappa", "twitch"),
    ("PogChamp", "twitch"),
    ("KEKW", "bttv"),
    ("catJAM", "bttv"),
    ("LULW", "ffz"),
    ("monkaW", "ffz"),
    ("Aware", "7tv"),
    ("xdd", "7tv"),
]
SEGMENTS = ["lurker", "casual", "regular", "superfan"]
DAY1 = datetime(2026, 11, 2, 18, tzinfo=UTC)
STREAMS = [(DAY1, 90), (DAY1 + timedelta(days=1, minutes=30), 60)]


def _insert(conn: psycopg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(dict.fromkeys(c for r in rows for c in r))
    sql = f"insert into marts.{table} ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))})"
    with conn.cursor() as cur:
        cur.executemany(sql, [[r.get(c) for c in cols] for r in rows])  # type: ignore[arg-type]


def _stream_id(channel: str, start: datetime) -> str:
    return f"{channel}:{start:%Y%m%dT%H%M}"


def fill_marts(conn: psycopg.Connection, seed: int = 7) -> dict[str, Any]:
    """Insert the rows; returns facts the tests assert against."""
    rng = random.Random(seed)
    messages: list[dict[str, Any]] = []
    bursts: list[dict[str, Any]] = []
    moderation: list[dict[str, Any]] = []
    streams: list[dict[str, Any]] = []
    topics: list[dict[str, Any]] = []
    hype: list[dict[str, Any]] = []
    activity: list[dict[str, Any]] = []
    for ci, channel in enumerate(CHANNELS):
        for si, (start, minutes) in enumerate(STREAMS):
            start = start + timedelta(minutes=10 * ci)
            sid = _stream_id(channel, start)
            peak_minute = start + timedelta(minutes=minutes // 2 + si * 5)
            crowd = [*LOGINS[ci * 5 : ci * 5 + 25], OPTED_OUT]
            for m in range(minutes):
                minute = start + timedelta(minutes=m)
                count = 3 + int(4 * (1 + m / minutes)) + (25 if minute == peak_minute else 0)
                for k in range(count):
                    login = rng.choice(crowd)
                    emote, provider = rng.choice(EMOTES)
                    body = rng.choice(
                        [
                            "hi chat",
                            "nice play",
                            f"{emote} {emote}",
                            "so bad",
                            "what game is this",
                            f"@{OPTED_OUT} hello",
                            f"gg {LOGINS[3]}",
                        ]
                    )
                    if minute == peak_minute:
                        body, emote, provider = "PogChamp PogChamp", "PogChamp", "twitch"
                    if channel == HOSTILE_CHANNEL and m == minutes // 2 + si * 5 and k == 0:
                        body = HOSTILE_MESSAGE
                    if minute == peak_minute and k == 1:
                        login = OPTED_OUT
                    score = rng.uniform(-1, 1)
                    tox = rng.random() ** 3
                    messages.append(
                        {
                            "chat_event_key": f"{channel}|{sid}|{m}|{k}",
                            "event_id": f"{sid}-{m}-{k}",
                            "channel": channel,
                            "sent_at": minute + timedelta(seconds=k * 59 // count),
                            "source_name": "irc",
                            "user_id": str(1000 + LOGINS.index(login)),
                            "user_login": login,
                            "body": body,
                            "body_length": len(body),
                            "emote_count": 2 if emote in body else 0,
                            "sentiment_score": score,
                            "sentiment_label": "positive"
                            if score > 0.3
                            else "negative"
                            if score < -0.3
                            else "neutral",
                            "toxicity_probability": tox,
                            "is_toxic": tox > 0.5,
                            "_emote": emote,
                            "_provider": provider,
                        }
                    )
            for j, (action, duration) in enumerate(
                [("timeout", 600), ("ban", None), ("delete", None), ("timeout", 30)]
            ):
                at = start + timedelta(minutes=10 + 15 * j, seconds=13)
                target = OPTED_OUT if j == 1 else LOGINS[ci * 5 + j]
                before = rng.uniform(0.05, 0.4)
                moderation.append(
                    {
                        "moderation_event_key": f"{sid}|mod{j}",
                        "channel": channel,
                        "action_type": action,
                        "moderated_at": at,
                        "target_user_login": target,
                        "duration_seconds": duration,
                        "target_message_count_10m": 3,
                        "target_mean_toxicity_10m": 0.6,
                        "target_max_toxicity_10m": 0.9,
                        "target_recent_messages": ["you are trash"],
                        "chat_toxicity_before_5m": before,
                        "chat_toxicity_after_5m": before * 0.6,
                        "chat_toxicity_change": -before * 0.4,
                    }
                )
            bursts.append(
                {
                    "burst_id": f"{sid}|PogChamp",
                    "channel": channel,
                    "emote_code": "PogChamp",
                    "started_at": peak_minute - timedelta(minutes=1),
                    "ended_at": peak_minute + timedelta(minutes=2),
                    "peak_at": peak_minute,
                    "peak_uses": 50,
                    "baseline_uses": 1.5,
                    "burst_score": 8.5 + ci,
                    "peak_messages_per_minute": 33,
                    "nearby_subscription_count": 2,
                    "nearby_raid_count": si,
                    "nearby_moderation_count": 1,
                    "nearby_other_burst_count": 1,
                    "nearby_other_burst_emotes": "KEKW <b>x</b>",
                    "burst_model_version": "test",
                }
            )
            deciles = [rng.random() + (1 if d == 5 else 0) for d in range(10)]
            total = sum(deciles)
            streams.append(
                {
                    "stream_id": sid,
                    "channel": channel,
                    "started_at": start,
                    "ended_at": start + timedelta(minutes=minutes),
                    "duration_minutes": minutes,
                    "session_source": "chat_gap",
                    "title": f"Stream {si + 1} of {channel}",
                    "game_name": "Just Chatting",
                    "subscription_count": 3,
                    "raid_count": si,
                    "bits_total": 100,
                    "activity_deciles": json.dumps([d / total for d in deciles]),
                    "stream_pattern": "mid_lull" if si else "late_climax",
                }
            )
            for seg in range(minutes // 30):
                seg_start = start + timedelta(minutes=30 * seg)
                for rank in (1, 2, 3):
                    label = rng.choice(
                        [
                            "boss fight build",
                            "music song playlist",
                            "game map rank",
                            "<i>food</i> brb",
                        ]
                    )
                    if seg == 0 and rank == 1:  # chat named chatters often enough to be a topic
                        label = f"{OPTED_OUT} {LOGINS[ci * 5]} raid"
                    topics.append(
                        {
                            "topic_key": f"{sid}|{seg}|{rank}",
                            "channel": channel,
                            "stream_id": sid,
                            "segment_start_at": seg_start,
                            "segment_end_at": seg_start + timedelta(minutes=30),
                            "topic_rank": rank,
                            "topic_label": label,
                            "top_terms": json.dumps({"boss": 0.3}),
                            "topic_weight": 0.5 / rank,
                            "shift_from_previous": rng.random(),
                            "topic_model_version": "test",
                        }
                    )
            for m in range(0, minutes, 7):
                minute = start + timedelta(minutes=m)
                p = rng.random()
                hype.append(
                    {
                        "hype_prediction_key": f"{sid}|{m}",
                        "channel": channel,
                        "window_start_at": minute - timedelta(minutes=1),
                        "predicted_minute_start_at": minute,
                        "hype_probability": p,
                        "is_hype_label": p > 0.7,
                        "hype_model_version": "test",
                    }
                )

    msgs = pd.DataFrame(messages)
    for stream in streams:
        part = msgs[
            (msgs["channel"] == stream["channel"])
            & (msgs["sent_at"] >= stream["started_at"])
            & (msgs["sent_at"] < stream["ended_at"])
        ]
        stream.update(
            {
                "message_count": len(part),
                "unique_chatter_count": part["user_login"].nunique(),
                "peak_messages_per_minute": int(
                    part.groupby(part["sent_at"].dt.floor("min")).size().max()
                ),
                "mean_sentiment": float(part["sentiment_score"].mean()),
                "toxicity_rate": float(part["is_toxic"].mean()),
                "moderation_action_count": 4,
            }
        )
        for i, (login, rows) in enumerate(part.groupby("user_login")):
            activity.append(
                {
                    "chatter_stream_key": f"{stream['stream_id']}|{login}",
                    "stream_id": stream["stream_id"],
                    "channel": stream["channel"],
                    "user_login": login,
                    "message_count": len(rows),
                    "active_minutes": rows["sent_at"].dt.floor("min").nunique(),
                    "emote_message_ratio": 0.3,
                    "first_message_offset_seconds": 60.0 * i,
                    "was_moderated": False,
                    "stream_segment": SEGMENTS[(len(rows) // 4) % 4],
                }
            )

    windows = []
    for seconds in (30, 60, 300):
        msgs["w"] = msgs["sent_at"].dt.floor(f"{seconds}s")
        for (channel, start), rows in msgs.groupby(["channel", "w"]):
            windows.append(
                {
                    "chat_window_key": f"{channel}|{seconds}|{start.isoformat()}",
                    "channel": channel,
                    "window_seconds": seconds,
                    "window_start_at": start.to_pydatetime(),
                    "window_end_at": (start + pd.Timedelta(seconds=seconds)).to_pydatetime(),
                    "message_count": len(rows),
                    "unique_chatter_count": rows["user_login"].nunique(),
                    "new_chatter_count": int(rows["user_login"].nunique() // 4),
                    "mean_sentiment": float(rows["sentiment_score"].mean()),
                    "mean_toxicity": float(rows["toxicity_probability"].mean()),
                    "toxicity_rate": float(rows["is_toxic"].mean()),
                    "moderation_action_count": int(len(rows) % 3 == 0),
                    "subscription_count": int(len(rows) % 11 == 0),
                    "raid_count": 0,
                    "is_burst_window": len(rows) > 20,
                }
            )
    usage = []
    for seconds, freq in ((60, "60s"), (86400, "1D")):
        msgs["w"] = msgs["sent_at"].dt.floor(freq)
        with_emote = msgs[msgs["emote_count"] > 0]
        for (channel, start, emote, provider), rows in with_emote.groupby(
            ["channel", "w", "_emote", "_provider"]
        ):
            usage.append(
                {
                    "emote_usage_key": f"{channel}|{seconds}|{start.isoformat()}|{emote}",
                    "channel": channel,
                    "window_seconds": seconds,
                    "window_start_at": start.to_pydatetime(),
                    "window_end_at": (start + pd.Timedelta(seconds=seconds)).to_pydatetime(),
                    "emote_code": emote,
                    "provider": provider,
                    "use_count": 2 * len(rows),
                    "user_count": rows["user_login"].nunique(),
                    "message_count_with_emote": len(rows),
                }
            )

    channels, chatters, signatures = [], [], []
    for channel in CHANNELS:
        part = msgs[msgs["channel"] == channel]
        channels.append(
            {
                "channel": channel,
                "first_seen_at": part["sent_at"].min().to_pydatetime(),
                "last_seen_at": part["sent_at"].max().to_pydatetime(),
                "message_count": len(part),
                "chatter_count": part["user_login"].nunique(),
                "moderation_action_count": 8,
                "user_notice_count": 6,
            }
        )
        for login, rows in part.groupby("user_login"):
            chatters.append(
                {
                    "chatter_key": f"{channel}|{login}",
                    "channel": channel,
                    "user_login": login,
                    "user_id": str(1000 + LOGINS.index(str(login))),
                    "message_count": len(rows),
                    "active_stream_count": 2,
                    "segment": SEGMENTS[len(rows) % 4],
                    "is_moderator": login == LOGINS[0],
                    "is_vip": False,
                    "moderation_received_count": 0,
                }
            )
        signatures.append(
            {
                "channel": channel,
                "message_count": len(part),
                "chatter_count": part["user_login"].nunique(),
                "mean_message_length": float(part["body_length"].mean()),
                "emote_message_share": float((part["emote_count"] > 0).mean()),
                "mean_sentiment": float(part["sentiment_score"].mean()),
                "toxicity_rate": float(part["is_toxic"].mean()),
                "vocabulary_size": 40,
                "top_emotes": json.dumps(
                    [{"emote": e, "provider": p, "share": 0.1} for e, p in EMOTES[:5]]
                ),
                "activity_by_hour": json.dumps([1 / 24] * 24),
            }
        )
    everywhere = [
        {
            "user_login": login,
            "user_id": str(1000 + LOGINS.index(str(login))),
            "channel_count": rows["channel"].nunique(),
            "message_count": len(rows),
        }
        for login, rows in msgs.groupby("user_login")
    ]
    similarity = []
    for i, a in enumerate(sorted(CHANNELS)):
        for b in sorted(CHANNELS)[i + 1 :]:
            similarity.append(
                {
                    "channel_pair_key": f"{a}|{b}",
                    "channel_a": a,
                    "channel_b": b,
                    "emote_mix_similarity": 0.8,
                    "shared_chatter_count": 20,
                    "chatter_overlap_jaccard": 0.5,
                    "activity_shape_similarity": 0.9,
                    "message_length_difference": 1.0,
                    "sentiment_difference": 0.05,
                    "overall_similarity": rng.uniform(0.4, 0.9),
                }
            )
    # The later stream of each channel moved this far from the earlier one (planted: 0.40, 0.50,
    # ...); the first channel's game changed.
    shifts = [
        {
            "stream_id": later["stream_id"],
            "channel": later["channel"],
            "started_at": later["started_at"],
            "previous_stream_id": earlier["stream_id"],
            "previous_started_at": earlier["started_at"],
            "game_name": later["game_name"],
            "previous_game_name": "Chess" if ci == 0 else earlier["game_name"],
            "is_game_change": ci == 0,
            "topic_shift": 0.4 + ci / 10,
            "topic_model_version": "test",
        }
        for ci, (earlier, later) in enumerate(zip(streams[::2], streams[1::2], strict=True))
    ]
    patterns = [
        {
            "stream_id": s["stream_id"],
            "channel": s["channel"],
            "started_at": s["started_at"],
            "activity_deciles": s["activity_deciles"],
            "stream_pattern": s["stream_pattern"],
            "pattern_model_version": "test",
        }
        for s in streams
    ]

    _insert(
        conn,
        "fct_chat_messages",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in messages],
    )
    for table, rows in [
        ("fct_chat_windows", windows),
        ("fct_emote_usage", usage),
        ("fct_emote_bursts", bursts),
        ("fct_moderation_events", moderation),
        ("fct_streams", streams),
        ("fct_chatter_stream_activity", activity),
        ("fct_topics", topics),
        ("fct_stream_topic_shifts", shifts),
        ("fct_stream_patterns", patterns),
        ("fct_hype_predictions", hype),
        ("dim_channels", channels),
        ("dim_chatters", everywhere),
        ("dim_channel_chatters", chatters),
        ("fct_channel_signatures", signatures),
        ("fct_channel_similarity", similarity),
    ]:
        _insert(conn, table, rows)
    conn.execute("insert into raw.chatter_optouts (user_login) values (%s)", (OPTED_OUT,))
    conn.commit()
    return {
        "message_count": len(messages),
        "logins": [x for x in LOGINS if x != OPTED_OUT],
        "opted_out": OPTED_OUT,
        "streams": len(streams),
        "channels": CHANNELS,
        "topic_shifts": {s["channel"]: (s["topic_shift"], s["previous_game_name"]) for s in shifts},
    }
