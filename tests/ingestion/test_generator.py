"""The demo and bench chat generator: deterministic, time-ordered, and moderated like a channel."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ingestion.generator import QUICK_ACTION_DELAY_S, TOXIC, ChatGenerator

START = datetime(2026, 3, 1, 18, tzinfo=UTC)
CHANNELS = ["alpha", "beta", "gamma"]
_TS = re.compile(r"tmi-sent-ts=(\d+)")
_PRIVMSG = re.compile(r"[;@]id=([^;]+);.* :(\w+)!\S+ PRIVMSG #\w+ :(.*)$")


def _ms(line: str) -> int:
    return int(_TS.search(line).group(1))  # type: ignore[union-attr]


def _speakers(lines: list[str]) -> set[str]:
    return {m.group(2) for m in map(_PRIVMSG.search, lines) if m}


def test_same_seed_same_chat_and_lines_in_time_order() -> None:
    first = ChatGenerator(CHANNELS, START, 1, seed=3).generate().lines_by_channel
    again = ChatGenerator(CHANNELS, START, 1, seed=3).generate().lines_by_channel
    assert first == again
    for lines in first.values():
        stamps = [_ms(line) for line in lines]
        assert stamps == sorted(stamps)


def test_a_channels_later_stream_has_new_chat_from_the_same_audience() -> None:
    one = ChatGenerator(["alpha"], START, 2, seed=3).generate().lines_by_channel["alpha"]
    two = ChatGenerator(["alpha"], START, 2, seed=3, stream=1).generate().lines_by_channel["alpha"]
    assert one != two
    first, second = _speakers(one), _speakers(two)
    # Zipf-weighted audiences of 400: the active core of both streams is the same people.
    assert len(first & second) / len(first | second) > 0.6
    other = _speakers(
        ChatGenerator(["alpha"], START, 2, seed=4).generate().lines_by_channel["alpha"]
    )
    assert len(first & other) / len(first | other) < 0.2


def test_most_abuse_is_acted_on_within_seconds() -> None:
    lines_by_channel = ChatGenerator(CHANNELS, START, 3, seed=3).generate().lines_by_channel
    abusive = acted_on = 0
    for lines in lines_by_channel.values():
        actions = [line for line in lines if " CLEARCHAT " in line or " CLEARMSG " in line]
        for line in lines:
            match = _PRIVMSG.search(line)
            if not match or match.group(3) not in TOXIC:
                continue
            abusive += 1
            msg_id, author, sent = match.group(1), match.group(2), _ms(line)
            acted_on += any(
                0 < _ms(action) - sent <= QUICK_ACTION_DELAY_S[1] * 1000
                and (action.endswith(f" :{author}") or f"target-msg-id={msg_id}" in action)
                for action in actions
            )
    assert abusive > 50
    # QUICK_ACTION_SHARE (0.75) of abuse is acted on in time; the late random moderation adds
    # little within that window.
    assert 0.6 < acted_on / abusive < 0.95
