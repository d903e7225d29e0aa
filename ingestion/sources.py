"""Which parser reads which landing source: one registry, used by the partition loader."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ingestion import irc
from ingestion.clients import eventsub
from ingestion.events import ChatEvent, Reject
from ingestion.formats import (
    chat_downloader,
    gql,
    normvio,
    rechat_v5,
    text_log,
    twitchdownloader,
)

Parser = Callable[[Iterable[bytes]], Iterator[ChatEvent | Reject]]

PARSERS: dict[str, Parser] = {
    "irc": lambda lines: irc.parse_lines(lines, source="irc"),
    "eventsub": eventsub.parse_eventsub_records,
    "gql": gql.parse_records,
    "twitchdownloader": twitchdownloader.parse_records,
    "rechat_v5": rechat_v5.parse_records,
    "chat_downloader": chat_downloader.parse_records,
    "text_log": text_log.parse_records,
    "normvio": normvio.parse_records,
}

# When the same (channel, event_id) arrives from several sources the richest one is kept.
SOURCE_PRIORITY: dict[str, int] = {
    "irc": 0, "eventsub": 1, "gql": 3, "twitchdownloader": 4, "rechat_v5": 5,
    "chat_downloader": 6, "text_log": 7,
    # NormVio entries are IRC messages with their Twitch ids but without badges or user ids.
    "normvio": 8,
}  # fmt: skip


def parser_for(source: str) -> Parser:
    try:
        return PARSERS[source]
    except KeyError:
        raise ValueError(f"no parser registered for landing source {source!r}") from None
