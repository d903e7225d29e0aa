"""The demo lands its generated chat as live capture would: opted-out chatters stay out."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from ingestion.events import ChatEvent
from ingestion.generator import ChatGenerator
from ingestion.irc import parse_lines
from ingestion.landing import read_lines
from ingestion.load import OptOuts
from twitch_warehouse.demo import land_generated_chat
from twitch_warehouse.settings import get_settings

START = datetime(2026, 10, 25, 18, tzinfo=UTC)


def _landed(root: Path) -> list[ChatEvent]:
    lines = [line for path in sorted(root.glob("irc/**/*.log")) for line in read_lines(path)]
    return [e for e in parse_lines(lines) if isinstance(e, ChatEvent)]


def test_the_demo_does_not_land_an_opted_out_chatters_lines(warehouse_home: Path) -> None:
    settings = get_settings()
    chat = ChatGenerator(["alpha"], START, 1, seed=5).generate()
    authors = Counter(e.user_login for e in parse_lines(chat.lines_by_channel["alpha"])
                      if isinstance(e, ChatEvent) and e.user_login)  # fmt: skip
    login, theirs = authors.most_common(1)[0]

    landed = land_generated_chat(settings, ["alpha"], START, 1, seed=5,
                                 optouts=OptOuts(logins=frozenset({login})))  # fmt: skip
    events = _landed(settings.landing_dir)
    assert login not in {e.user_login for e in events} | {e.target_user_login for e in events}
    assert landed == len(events) <= chat.line_count - theirs
    # Without opt-outs, every generated line lands (the same hour's files are replaced).
    assert land_generated_chat(settings, ["alpha"], START, 1, seed=5) == chat.line_count
