"""Hourly landing files: the durable, append-only zone between sources and the warehouse.

Layout: `<landing>/<source>/<channel>/<YYYY-MM-DD>/<HH>.<ext>`, one file per source, channel and
UTC hour. Line sources (raw IRC) land `.log` files, record sources (VOD exports, EventSub) land
`.jsonl` files with one original record per line. A partition load reads every file of its hour.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

LINE_SOURCES = frozenset({"irc"})
# Folders of the landing zone that hold no chat (emote catalog snapshots).
NOT_CHAT = frozenset({"catalogs"})


@dataclass(frozen=True, slots=True)
class LandingFile:
    path: Path
    source: str
    channel: str
    hour: datetime


def hour_floor(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def landing_path(root: Path, source: str, channel: str, hour: datetime) -> Path:
    ext = "log" if source in LINE_SOURCES else "jsonl"
    hour = hour_floor(hour)
    return root / source / channel / hour.strftime("%Y-%m-%d") / f"{hour:%H}.{ext}"


# `<HH>.<ext>` from live capture, `<HH>.<sha8 of the source file>.<ext>` from imports.
_LANDING_NAME = re.compile(r"\d{2}(\.[0-9a-f]{8})?\.(log|jsonl)(\.gz)?")


def files_for_window(root: Path, start: datetime, end: datetime) -> list[LandingFile]:
    """Every landing file whose hour lies in [start, end), in a stable order."""
    found: list[LandingFile] = []
    if not root.exists():
        return found
    first_day, last_day = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    sources = sorted(p for p in root.iterdir() if p.is_dir() and p.name not in NOT_CHAT)
    for source_dir in sources:
        for channel_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            # Day folders sort as text; only those the window can touch are listed.
            days = sorted(
                d for d in channel_dir.iterdir() if d.is_dir() and first_day <= d.name <= last_day
            )
            for day_dir in days:
                for path in sorted(day_dir.iterdir()):
                    if not _LANDING_NAME.fullmatch(path.name):
                        continue
                    try:
                        hour = datetime.strptime(f"{day_dir.name} {path.name[:2]}", "%Y-%m-%d %H")
                    except ValueError:
                        continue
                    hour = hour.replace(tzinfo=UTC)
                    if start <= hour < end:
                        found.append(LandingFile(path, source_dir.name, channel_dir.name, hour))
    return found


def read_lines(path: Path) -> Iterator[bytes]:
    """Stream a landing file's lines as bytes (gzip-aware), never reading it whole."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\r\n")


@contextmanager
def _exclusive(fh: BinaryIO) -> Iterator[None]:
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def landing_file_lock(path: Path) -> Iterator[None]:
    """Exclusive use of a landing file: shared `HourlyWriter`s (live capture) wait meanwhile."""
    with open(path, "rb") as fh, _exclusive(fh):
        yield


def _names_the_same_file(fh: BinaryIO, path: Path) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fh.fileno())
    return (held.st_ino, held.st_dev) == (named.st_ino, named.st_dev)


class HourlyWriter:
    """Append lines to hourly landing files, flushing and fsyncing in small batches.

    `shared`: other processes may rewrite the files meanwhile (`forget` erasing a chatter while
    live capture runs). Each line is then written under the file's lock, to the file its path
    names at that moment, so no line goes to a file that was replaced.
    """

    def __init__(
        self, root: Path, source: str, *, batch_size: int = 200, shared: bool = False
    ) -> None:
        self.root = root
        self.source = source
        self.batch_size = batch_size
        self.shared = shared
        self._handles: dict[Path, BinaryIO] = {}
        self._pending = 0

    def _handle(self, path: Path) -> BinaryIO:
        fh = self._handles.get(path)
        if fh is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "ab")  # noqa: SIM115 - kept open across writes, closed in close()
            self._handles[path] = fh
        return fh

    def write(self, channel: str, hour: datetime, line: str) -> None:
        path = landing_path(self.root, self.source, channel, hour)
        data = line.encode("utf-8", "surrogateescape") + b"\n"
        if self.shared:
            self._write_locked(path, data)
        else:
            self._handle(path).write(data)
        self._pending += 1
        if self._pending >= self.batch_size:
            self.flush()

    def _write_locked(self, path: Path, data: bytes) -> None:
        while True:
            fh = self._handle(path)
            with _exclusive(fh):
                # Holding the lock of the file the path names, nobody can replace it now.
                if _names_the_same_file(fh, path):
                    fh.write(data)
                    fh.flush()
                    return
            fh.close()  # replaced since it was opened: append to the new file
            del self._handles[path]

    def flush(self) -> None:
        for fh in self._handles.values():
            fh.flush()
            os.fsync(fh.fileno())
        self._pending = 0

    def close(self) -> None:
        self.flush()
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()

    def __enter__(self) -> HourlyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
