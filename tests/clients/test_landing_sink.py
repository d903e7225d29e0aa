"""Torn-line repair in `LandingSink`: a kill -9 inside `write()` leaves a newline-less last line;
the next capture must cut it off before appending, or its first line is glued onto the torn one
and the loader quarantines both. Deterministic: the torn file is written by hand, no kill."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.clients.landing_sink import LandingSink, irc_dedup_key, repair_tail
from ingestion.landing import landing_path, read_lines

HOUR = datetime(2026, 1, 1, 10, tzinfo=UTC)
MS = int(HOUR.timestamp() * 1000)
BLOCK = 1 << 16  # repair_tail reads the file backwards in blocks of this size


def line(i: int, text: str = "hello") -> str:
    return f"@id=m{i};tmi-sent-ts={MS + i} :u!u@u PRIVMSG #c :{text} {i}"


def hour_file(root: Path) -> Path:
    path = landing_path(root, "irc", "c", HOUR)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# Torn inside the tags, or after them: the torn line then already carries line 2's `id`, and a
# key read from it (before the cut) would drop the replayed line 2 as a duplicate.
@pytest.mark.parametrize("cut", [25, len(line(2)) - 3])
def test_torn_tail_is_cut_before_the_sink_appends(tmp_path: Path, cut: int) -> None:
    path = hour_file(tmp_path)
    whole = (line(1) + "\n").encode()
    torn = line(2).encode()[:cut]  # the process died `cut` bytes into writing line 2
    path.write_bytes(whole + torn)

    sink = LandingSink(tmp_path, "irc", irc_dedup_key)
    assert sink.write("c", HOUR, line(2)) and sink.write("c", HOUR, line(3))
    assert not sink.write("c", HOUR, line(1))  # the kept line's key was still loaded
    sink.close()

    assert path.read_bytes() == whole + (line(2) + "\n" + line(3) + "\n").encode()
    assert sink.repaired_bytes == len(torn)
    assert (sink.written, sink.duplicates) == (2, 1)


def test_a_whole_last_line_is_left_alone(tmp_path: Path) -> None:
    path = hour_file(tmp_path)
    data = (line(1) + "\n" + line(2) + "\n").encode()
    path.write_bytes(data)
    sink = LandingSink(tmp_path, "irc", irc_dedup_key)
    assert not sink.write("c", HOUR, line(2))
    sink.close()
    assert path.read_bytes() == data
    assert sink.repaired_bytes == 0


# Around the block edge (the last newline the first byte of the first block read from the end,
# then the last and second-to-last byte of the next one) and a tail spanning several blocks.
@pytest.mark.parametrize("tail", [BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_a_tail_longer_than_a_read_block_is_cut_at_the_last_newline(
    tmp_path: Path, tail: int
) -> None:
    path = hour_file(tmp_path)
    # Kept lines of 40 kB: the file's last newlines lie in different blocks.
    kept = "".join(line(i, "x" * 40_000) + "\n" for i in range(1, 4)).encode()
    path.write_bytes(kept + b"y" * tail)

    sink = LandingSink(tmp_path, "irc", irc_dedup_key)
    sink.write("c", HOUR, line(9))
    sink.close()

    assert path.read_bytes() == kept + (line(9) + "\n").encode()
    assert sink.repaired_bytes == tail


def test_a_file_without_any_newline_is_emptied(tmp_path: Path) -> None:
    """Killed while writing the file's first line: nothing of it was flushed as a line."""
    path = hour_file(tmp_path)
    torn = b"@id=m1;tmi-sent-ts=" + b"9" * (BLOCK + 5)  # longer than a block, too
    path.write_bytes(torn)

    sink = LandingSink(tmp_path, "irc", irc_dedup_key)
    sink.write("c", HOUR, line(2))
    sink.close()

    assert [raw.decode() for raw in read_lines(path)] == [line(2)]
    assert sink.repaired_bytes == len(torn)


def test_torn_multibyte_character_is_cut_in_bytes(tmp_path: Path) -> None:
    path = hour_file(tmp_path)
    whole = (line(1) + "\n").encode()
    emoji = line(2, "🙂").encode()
    torn = emoji[: emoji.index("🙂".encode()) + 2]  # half of the 4-byte character
    path.write_bytes(whole + torn)
    assert repair_tail(path) == len(torn)
    assert path.read_bytes() == whole


@pytest.mark.parametrize("content", [None, b""])
def test_missing_or_empty_file_needs_no_repair(tmp_path: Path, content: bytes | None) -> None:
    path = hour_file(tmp_path)
    if content is not None:
        path.write_bytes(content)
    assert repair_tail(path) == 0
    assert path.exists() is (content is not None)


def test_each_torn_hour_file_is_repaired_and_counted(tmp_path: Path) -> None:
    """`repaired_bytes` sums over every (channel, hour) the sink opens, once per file."""
    torn_by_channel = {"a": b"@id=a9;tmi", "b": b"@id=b9;tmi-sent-ts=1"}
    for channel, torn in torn_by_channel.items():
        path = landing_path(tmp_path, "irc", channel, HOUR)
        path.parent.mkdir(parents=True)
        path.write_bytes((line(1) + "\n").encode() + torn)

    sink = LandingSink(tmp_path, "irc", irc_dedup_key)
    for channel in torn_by_channel:
        sink.write(channel, HOUR, line(2))
        sink.write(channel, HOUR, line(3))  # same hour again: already repaired, not re-read
    sink.close()

    assert sink.repaired_bytes == sum(map(len, torn_by_channel.values()))
    for channel in torn_by_channel:
        path = landing_path(tmp_path, "irc", channel, HOUR)
        assert path.read_text().splitlines() == [line(1), line(2), line(3)]
