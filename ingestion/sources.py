"""Which parser reads which landing source: one registry, used by the partition loader."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ingestion import irc
from ingestion.events import ChatEvent, Reject

Parser = Callable[[Iterable[bytes]], Iterator[ChatEvent | Reject]]

PARSERS: dict[str, Parser] = {
    "irc": lambda lines: irc.parse_lines(lines, source="irc"),
}

# When the same (channel, event_id) arrives from several sources the richest one is kept.
SOURCE_PRIORITY: dict[str, int] = {"irc": 0, "eventsub": 1, "justlog": 2}


def parser_for(source: str) -> Parser:
    try:
        return PARSERS[source]
    except KeyError:
        raise ValueError(f"no parser registered for landing source {source!r}") from None
