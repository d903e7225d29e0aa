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
