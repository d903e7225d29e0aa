"""Hourly landing files: the durable, append-only zone between sources and the warehouse.

Layout: `<landing>/<source>/<channel>/<YYYY-MM-DD>/<HH>.<ext>`, one file per source, channel and
UTC hour. Line sources (raw IRC) land `.log` files, record sources (VOD exports, EventSub) land
`.jsonl` files with one original record per line. A partition load reads every file of its hour.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


class HourlyWriter:
    """Append lines to hourly landing files, flushing and fsyncing in small batches."""

    def __init__(self, root: Path, source: str, *, batch_size: int = 200) -> None:
        self.root = root
        self.source = source
        self.batch_size = batch_size
        self._handles: dict[Path, object] = {}
        self._pending = 0

    def write(self, channel: str, hour: datetime, line: str) -> None:
        path = landing_path(self.root, self.source, channel, hour)
        fh = self._handles.get(path)
        if fh is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "ab")  # noqa: SIM115 - kept open across writes, closed in close()
            self._handles[path] = fh
        fh.write(line.encode("utf-8", "surrogateescape") + b"\n")  # type: ignore[attr-defined]
        self._pending += 1
        if self._pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for fh in self._handles.values():
            fh.flush()  # type: ignore[attr-defined]
            os.fsync(fh.fileno())  # type: ignore[attr-defined]
        self._pending = 0

    def close(self) -> None:
        self.flush()
        for fh in self._handles.values():
            fh.close()  # type: ignore[attr-defined]
        self._handles.clear()

    def __enter__(self) -> HourlyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
