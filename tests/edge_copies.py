"""Landing files holding one message twice, from two sources whose clocks put the copies either
side of an hour's edge (IRC `tmi-sent-ts` vs a VOD export's `createdAt`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from ingestion.landing import landing_path

SKEW = timedelta(milliseconds=100)


def land_copy(root: Path, source: str, channel: str, at: datetime) -> None:
    """Message `m1` of `bob` in `channel` at `at`, as `source` ("irc" or "gql") delivers it."""
    path = landing_path(root, source, channel, at)
    path.parent.mkdir(parents=True, exist_ok=True)
    if source == "irc":
        ms = int(at.timestamp() * 1000)
        path.write_text(f"@id=m1;room-id=1;user-id=2;tmi-sent-ts={ms}"
                        f" :bob!bob@bob.tmi.twitch.tv PRIVMSG #{channel} :hello\n")  # fmt: skip
    else:
        created = at.isoformat().replace("+00:00", "Z")
        path.write_text(
            '{"_import":{"channel":"'
            + channel
            + '"},"record":{"id":"m1","createdAt":"'
            + created
            + '","message":{"body":"hello","fragments":[{"text":"hello"}]},'
            '"commenter":{"id":"2","login":"bob"}}}\n'
        )


def land_copies_across_edge(
    root: Path, edge: datetime, *, before: str, after: str, channel: str = "alpha"
) -> None:
    """Message `m1` from `before` ("irc" or "gql") 100 ms before the hour `edge`, in the hour
    before it, and from `after` 100 ms after it."""
    land_copy(root, before, channel, edge - SKEW)
    land_copy(root, after, channel, edge + SKEW)
