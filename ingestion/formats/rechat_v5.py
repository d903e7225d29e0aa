"""Legacy Twitch v5 "rechat" JSON (`{video, comments[...]}`), one comment per landing line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial

from ingestion.events import ChatEvent, Reject
from ingestion.formats._common import run
from ingestion.formats._v5 import parse_comment

SOURCE = "rechat_v5"

parse_record = partial(parse_comment, source=SOURCE)


def parse_records(lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    return run(lines, SOURCE, parse_record)
