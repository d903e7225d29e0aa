from __future__ import annotations

import numpy as np
import pandas as pd

from ml.segments import (
    MODEL_VERSION,
    SEGMENT_COLUMNS,
    STREAM_SEGMENT_COLUMNS,
    chatter_segments,
    chatter_stream_features,
    chatter_stream_segments,
)

PASTA = "CLICK MY LINK FOR FREE SUBS CLICK MY LINK FOR FREE SUBS"


def _community() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    rows = []
    for s in range(6):
        t0 = pd.Timestamp("2025-01-01T20:00:00Z") + pd.Timedelta(days=s)
        # 30 casual/regular chatters with ordinary sentences.
        for u in range(30):
            if rng.random() < 0.5:
                continue
            for k in range(int(rng.integers(1, 6))):
                at = t0 + pd.Timedelta(seconds=int(rng.integers(0, 7200)))
                rows.append((s, at, f"user{u}", f"nice play number {k} from user{u}", [], 0))
        # A heavy emote poster.
        for k in range(40):
            at = t0 + pd.Timedelta(seconds=60 * k + 5)
            rows.append(
                (s, at, "emotefan", "PogChamp PogChamp LUL", ["PogChamp", "PogChamp", "LUL"], 0)
            )
        # The spammer: same copypasta over and over.
        for k in range(60):
            rows.append((s, t0 + pd.Timedelta(seconds=30 * k), "spambot", PASTA, [], 0))
    messages = pd.DataFrame(
        rows, columns=["stream_id", "sent_at", "user_login", "text", "emotes", "subscriber_months"]
    ).assign(channel="chan", stream_id=lambda d: "s" + d["stream_id"].astype(str))
    joins = pd.DataFrame(
        [("chan", f"s{s}", f"lurker{i}") for s in range(6) for i in range(5)],
        columns=["channel", "stream_id", "user_login"],
    )
    moderation = pd.DataFrame({"channel": ["chan"] * 4, "target_user_login": ["spambot"] * 4})
    return messages, joins, moderation


def test_named_segments_on_hand_built_community() -> None:
    messages, joins, moderation = _community()
    seg = chatter_segments(messages, joins=joins, moderation=moderation)
    assert list(seg.columns[: len(SEGMENT_COLUMNS)]) == SEGMENT_COLUMNS
    by = seg.set_index("user_login")["segment"]
    assert by["spambot"] == "spammer"
    assert by["emotefan"] == "emote_spammer"
    assert (by[[f"lurker{i}" for i in range(5)]] == "lurker").all()
    assert not by[by.index.str.startswith("user")].isin(["spammer", "lurker"]).any()
    assert seg["segment_confidence"].between(0, 1).all()
    assert (seg["model_version"] == MODEL_VERSION).all()
    again = chatter_segments(messages, joins=joins, moderation=moderation)
    pd.testing.assert_frame_equal(seg, again)


def test_per_stream_segments() -> None:
    messages, joins, _ = _community()
    seg = chatter_stream_segments(messages, joins=joins)
    assert list(seg.columns[: len(STREAM_SEGMENT_COLUMNS)]) == STREAM_SEGMENT_COLUMNS
    spam = seg[seg["user_login"] == "spambot"]
    assert len(spam) == 6 and (spam["segment"] == "spammer").all()
    assert (seg.loc[seg["user_login"].str.startswith("lurker"), "segment"] == "lurker").all()


def test_real_irc_segments(xqc_events: pd.DataFrame, xqc_messages: pd.DataFrame) -> None:
    moderation = xqc_events[xqc_events["event_type"].isin(["timeout", "ban"])]
    seg = chatter_segments(xqc_messages, moderation=moderation[["channel", "target_user_login"]])
    assert seg["user_login"].is_unique
    assert len(seg) == xqc_messages["user_login"].nunique()
    assert seg["segment"].nunique() >= 2


def test_reactions_everyone_types_are_not_copypasta() -> None:
    """A regular who mostly answers with the channel's emote or "lol", as the whole chat does,
    copies nothing; repeating a sentence others repeat is copy-paste."""
    rows = []
    t0 = pd.Timestamp("2025-01-01T20:00:00Z")
    for k in range(30):
        at = t0 + pd.Timedelta(seconds=20 * k)
        rows += [(at, f"viewer{k % 5}", "nepuLul"), (at, f"viewer{k % 5}", "lol LOL"),
                 (at, "regular", ["nepuLul", "lol", "W W W"][k % 3]),
                 (at, "paster", PASTA if k % 2 else f"my own words number {k}")]  # fmt: skip
    messages = pd.DataFrame(rows, columns=["sent_at", "user_login", "text"]).assign(
        channel="chan", stream_id="s0"
    )
    copies = chatter_stream_features(messages).set_index("user_login")["copies"]
    assert copies["regular"] == 0
    assert copies["paster"] == 15


def _weeks(shuffle_second: bool) -> pd.DataFrame:
    """Two weeks of one community; optionally everyone swaps habits in week two."""
    rng = np.random.default_rng(1)
    habits = {f"talker{i}": "talker" for i in range(15)}
    habits |= {f"emoter{i}": "emoter" for i in range(15)}
    habits |= {f"rare{i}": "rare" for i in range(15)}
    rows = []
    for week in range(2):
        users = list(habits)
        names = list(habits.values())
        if shuffle_second and week == 1:
            names = list(rng.permutation(names))
        for s in range(3):
            t0 = pd.Timestamp("2025-01-06T20:00:00Z") + pd.Timedelta(days=7 * week + 2 * s)
            for user, habit in zip(users, names, strict=True):
                n = {"talker": 30, "emoter": 12, "rare": 1}[habit]
                for k in range(n):
                    at = t0 + pd.Timedelta(seconds=int(rng.integers(0, 7200)))
                    if habit == "emoter":
                        rows.append((f"w{week}s{s}", at, user, "LUL LUL LUL", ["LUL"] * 3))
                    else:
                        rows.append((f"w{week}s{s}", at, user, f"some words {k} here", []))
    return pd.DataFrame(
        rows, columns=["stream_id", "sent_at", "user_login", "text", "emotes"]
    ).assign(channel="chan", subscriber_months=0)


def test_weekly_stability_high_when_habits_persist() -> None:
    from ml.segments import weekly_stability

    stable = weekly_stability(_weeks(False), n_clusters=3, min_common=10)
    shuffled = weekly_stability(_weeks(True), n_clusters=3, min_common=10)
    assert len(stable) == 1 and len(shuffled) == 1
    assert stable["common_chatters"].iloc[0] == 45
    assert stable["ari"].iloc[0] > 0.8
    assert shuffled["ari"].iloc[0] < stable["ari"].iloc[0] - 0.5
    assert stable["ari"].between(-1, 1).all()


def test_silhouette_separates_distinct_habits() -> None:
    from ml.segments import silhouette

    seg = chatter_segments(_weeks(False), n_clusters=3)
    score = silhouette(seg)
    assert 0.3 < score <= 1.0
    one_segment = seg.assign(segment="casual")
    assert np.isnan(silhouette(one_segment))


def test_every_name_the_rules_give_is_a_known_segment() -> None:
    """The report orders and colours segments by `SEGMENT_NAMES`: a rule's name missing there
    would be drawn last, in whatever order its name sorts."""
    import itertools

    from ml.segments import SEGMENT_NAMES, _named

    grid = {"messages_per_stream": [0.1, 5, 50], "moderation_per_stream": [0, 1],
            "emote_ratio": [0.1, 0.9], "copypaste_ratio": [0, 0.5],
            "attendance_share": [0.1, 0.5], "subscriber_months": [0, 12],
            "streams_attended": [1, 5]}  # fmt: skip
    centroids = pd.DataFrame(list(itertools.product(*grid.values())), columns=list(grid))
    names = set(_named(centroids, mps_p90=10.0))
    assert names == set(SEGMENT_NAMES)
