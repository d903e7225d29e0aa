"""Warehouse chat as moderation event windows: who an action targets, and in what order."""

from __future__ import annotations

import math

import pandas as pd

from ml.moderation import chat_windows, weak_labels

T0 = pd.Timestamp("2026-03-02T20:59:50Z")


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    at = [T0, T0 + pd.Timedelta(seconds=2), T0 + pd.Timedelta(seconds=15)]
    messages = pd.DataFrame({
        "channel": ["c", "c", "c"], "event_id": ["m1", "m2", "m3"], "sent_at": at,
        "user_login": ["ann", "bob", "ann"], "body": ["hi", "buy followers", None],
        "toxicity_probability": [0.1, None, 0.2],
    })  # fmt: skip
    actions = pd.DataFrame({
        "channel": ["c", "c", "c"],
        # The deletion shares its instant with the message it deletes; the ban has a target.
        "sent_at": [at[1], at[1] + pd.Timedelta(seconds=1), at[2]],
        "action_type": ["delete", "ban", "clear"],
        "target_user_login": [None, "bob", None],
        "target_message_id": ["m2", None, None],
    })  # fmt: skip
    return messages, actions


def test_windows_split_by_hour_and_resolve_deletions_to_their_author() -> None:
    messages, actions = _frames()
    windows = chat_windows(messages, actions)
    assert [(w.channel, len(w.events)) for w in windows] == [("c", 4), ("c", 1)]
    first = windows[0]
    assert [(e.user, e.action) for e in first.events] == [
        ("ann", "message"), ("bob", "message"), ("bob", "delete_message"), ("bob", "ban"),
    ]  # fmt: skip
    assert first.event_ids == ["m1", "m2", None, None]
    assert first.events[1].text == "buy followers"
    assert first.toxicity[0] == 0.1 and math.isnan(first.toxicity[1])
    assert weak_labels(first.events) == [0, 1, 0, 0]
    # A chat clear acts on nobody: it is no event. The empty body is an empty text.
    assert windows[1].events[0].text == ""


def test_one_window_per_channel_without_a_period() -> None:
    messages, actions = _frames()
    (window,) = chat_windows(messages, actions, freq=None)
    assert window.event_ids == ["m1", "m2", None, None, "m3"]


def test_messages_since_leaves_out_earlier_messages_and_actions() -> None:
    messages, actions = _frames()
    (window,) = chat_windows(messages, actions, freq=None)
    assert window.messages_since(T0 + pd.Timedelta(seconds=1)) == [1, 4]


def test_context_features_never_look_at_later_events() -> None:
    """A message's features are the same whether the window ends at it or an hour later."""
    import numpy as np

    from ml.moderation import ChatEvent, context_features

    rng = np.random.default_rng(1)
    words = ["hi", "gg", "trash", "idiot", "LUL", "nice play", "buy followers"]
    events, t = [], 0.0
    for n in range(400):
        t += float(rng.exponential(2.0))
        if n % 37 == 36:
            events.append(ChatEvent(t, f"u{rng.integers(20)}", None, "timeout"))
        else:
            events.append(ChatEvent(t, f"u{rng.integers(20)}", str(rng.choice(words))))
    tox = np.where([e.text is None for e in events], 0.0, rng.random(len(events)))
    messages = [i for i, e in enumerate(events) if e.text is not None]
    whole = context_features(events, tox, messages)
    for cut in (50, 199, 350):
        prefix = [i for i in messages if i < cut]
        early = context_features(events[:cut], tox[:cut], prefix)
        assert np.array_equal(early, whole[: len(prefix)])


def test_context_features_count_what_one_chatter_did_in_the_trailing_window() -> None:
    """The chatter's own recent messages, repeats and moderation, the chat's repeats of the same
    copypasta, and what falls out of the window after `HISTORY_S`."""
    import numpy as np

    from ml.moderation import DENSE_NAMES, HISTORY_S, ChatEvent, context_features

    events = [
        ChatEvent(0.0, "ann", "buy followers"),
        ChatEvent(1.0, "bob", "BUY followers!!"),  # same copypasta signature as ann's
        ChatEvent(2.0, "ann", None, "timeout"),
        ChatEvent(3.0, "ann", "buy followers"),
        # Events 0-2 have left the trailing window; ann's message at 3.0 has not.
        ChatEvent(3.0 + HISTORY_S - 0.5, "ann", "buy followers"),
    ]
    tox = np.array([0.5, 0.25, 0.0, 0.75, 1.0])
    rows = context_features(events, tox, [0, 1, 3, 4])
    feature = {name: rows[:, k].tolist() for k, name in enumerate(DENSE_NAMES)}
    assert feature["user_prev_msgs"] == [0, 0, 1, 1]
    assert feature["user_prev_mod"] == [0, 0, 1, 0]
    assert feature["user_dup"] == [0, 0, 1, 1]
    assert feature["user_first"] == [1, 1, 0, 0]
    assert feature["same_sig_others"] == [0, 1, 1, 0]  # bob's copy, then only ann's own
    assert feature["user_prev_tox"] == [0.0, 0.0, 0.5, 0.75]
    assert feature["mod_rate"] == [0, 0, 1, 0]
    # The chat's norm is the mean of every earlier message, the trailing window's only recent ones.
    assert feature["chat_tox_mean"] == [0.5, 0.5, 0.375, 0.5]
    assert feature["tox_minus_chat"] == [0.0, -0.25, 0.375, 0.25]
    assert feature["caps_ratio"][1] == 3 / 12 and feature["exclaim"] == [0, 1, 0, 0]


def test_text_features_equal_the_hasher_over_whole_normalised_texts() -> None:
    """Hashing each distinct word once gives the rows the hasher gives for whole texts."""
    import numpy as np

    from ml.moderation import ModerationModel
    from ml.text import toxicity_normalize
    from ml.toxicity import default_model

    model = ModerationModel(default_model())
    texts = ["KEKW KEKW gg", "f u c k you", "sh1t @bob www.x.y", "", "KEKW KEKW gg",
             "Straße ÄÖÜ 42", "LULLLL soooo good", "!!!"]  # fmt: skip
    fast = model.text_x(texts)
    plain = model.hasher.transform([toxicity_normalize(t, model.toxicity.emotes) for t in texts])
    assert fast.shape == plain.shape
    assert np.array_equal(fast.toarray(), plain.toarray())
