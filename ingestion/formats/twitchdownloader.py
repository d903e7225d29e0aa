"""TwitchDownloader JSON (`{streamer, video, comments[...]}`), one comment per landing line.

Its comments keep the v5 shape, so they share the v5 mapping; the file header differs
(`streamer.name` is the channel, `video.created_at` the start), which the importer reads. Send
times come from each comment's `created_at` and emotes from the fragments (see `_v5`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial

from ingestion.events import ChatEvent, Reject
from ingestion.formats._common import run
from ingestion.formats._v5 import parse_comment

SOURCE = "twitchdownloader"

parse_record = partial(parse_comment, source=SOURCE, sends_created_at=True, listed_emotes=False)


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)
