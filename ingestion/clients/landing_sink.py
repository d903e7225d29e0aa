"""Deduplicating, crash-tolerant writes into hourly landing files.

Wraps `HourlyWriter`: before the first write to a (channel, hour) file in this process the file's
existing keys are loaded, so a restart or a replaying server never lands a line twice, and a
torn last line left by a kill -9 is cut off first (it was never part of a flushed batch).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ingestion.landing import HourlyWriter, hour_floor, landing_path, read_lines

KeyFn = Callable[[str], str | None]


class LandingWriteError(RuntimeError):
    """The landing folder is not writable (permissions, disk full, ...): stop, never drop."""


def _digest(text: str) -> str:
    return (
        "h:" + hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    )


def irc_dedup_key(line: str) -> str | None:
    """The `id` tag, else a hash of a line that has `tmi-sent-ts`; None when not deduplicable.

    Lines without a server timestamp (JOIN/PART, some ROOMSTATEs) are landed with a receive-time
    prefix; two identical ones may be two real events, so they are never collapsed.
    """
    if not line.startswith("@"):
        return None
    space = line.find(" ")
    if space < 0:
        return None
    has_ts = False
    for item in line[1:space].split(";"):
        key, _, value = item.partition("=")
        if key == "id" and value:
            return "id:" + value
        if key == "tmi-sent-ts":
            has_ts = True
    return _digest(line) if has_ts else None


def eventsub_dedup_key(line: str) -> str | None:
    """EventSub may redeliver a notification; its `metadata.message_id` identifies it."""
    try:
        message_id = json.loads(line).get("metadata", {}).get("message_id")
    except (ValueError, AttributeError):
        return None
    return "id:" + message_id if isinstance(message_id, str) and message_id else None


def repair_tail(path: Path) -> int:
    """Cut a torn (newline-less) last line off `path`; returns the number of bytes removed."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        block = 1 << 16
        pos = size
        keep = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return size - keep


class LandingSink:
    """`HourlyWriter` plus per-hour dedup; `write` returns False for an already-landed line."""

    def __init__(
        self,
        root: Path,
        source: str,
        key_fn: KeyFn,
        *,
        batch_size: int = 50,
        keep_hours: int = 4,
    ) -> None:
        self.root = root
        self.source = source
        self.key_fn = key_fn
        self.batch_size = batch_size
        self.keep_hours = keep_hours
        self._writer = HourlyWriter(root, source, batch_size=batch_size, shared=True)
        self._keys: dict[tuple[str, datetime], set[str]] = {}
        self.pending = 0
        self.written = 0
        self.duplicates = 0
        self.repaired_bytes = 0

    def check_writable(self) -> None:
        """Fail at start, not at the first chat line, when the landing root is unusable."""
        try:
            target = self.root / self.source
            target.mkdir(parents=True, exist_ok=True)
            probe = target / f".probe-{os.getpid()}"
            with open(probe, "wb") as fh:
                fh.write(b"ok\n")
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
        except OSError as exc:
            raise LandingWriteError(
                f"landing folder {self.root} is not writable: {exc.strerror or exc}"
            ) from exc

    def _hour_keys(self, channel: str, hour: datetime) -> set[str]:
        slot = (channel, hour)
        keys = self._keys.get(slot)
        if keys is not None:
            return keys
        path = landing_path(self.root, self.source, channel, hour)
        keys = set()
        try:
            # Only regular files: a device or FIFO would never end (and is not landed data).
            if path.is_file():
                self.repaired_bytes += repair_tail(path)
                for raw in read_lines(path):
                    key = self.key_fn(raw.decode("utf-8", "surrogateescape"))
                    if key is not None:
                        keys.add(key)
        except OSError as exc:
            raise LandingWriteError(
                f"cannot read landing file {path}: {exc.strerror or exc}"
            ) from exc
        self._keys[slot] = keys
        # Old hours of this channel no longer receive lines; forget their keys.
        hours = sorted(h for c, h in self._keys if c == channel)
        for old in hours[: -self.keep_hours]:
            del self._keys[(channel, old)]
        return keys

    def write(self, channel: str, hour: datetime, line: str, key: str | None = None) -> bool:
        hour = hour_floor(hour)
        keys = self._hour_keys(channel, hour)
        if key is None:
            key = self.key_fn(line)
        if key is not None:
            if key in keys:
                self.duplicates += 1
                return False
            keys.add(key)
        try:
            self._writer.write(channel, hour, line)
        except OSError as exc:
            raise LandingWriteError(
                f"cannot write landing file under {self.root}: {exc.strerror or exc}"
            ) from exc
        self.written += 1
        self.pending += 1
        if self.pending >= self.batch_size:
            self.pending = 0  # HourlyWriter flushed+fsynced this batch itself
        return True

    def flush(self) -> None:
        try:
            self._writer.flush()
        except OSError as exc:
            raise LandingWriteError(
                f"cannot flush landing files under {self.root}: {exc.strerror or exc}"
            ) from exc
        self.pending = 0

    def rotate(self) -> None:
        """Close every open file handle (they reopen lazily): keeps fds bounded over days."""
        self.close()
        self._writer = HourlyWriter(self.root, self.source, batch_size=self.batch_size, shared=True)

    def close(self) -> None:
        try:
            self._writer.close()
        except OSError as exc:
            raise LandingWriteError(
                f"cannot flush landing files under {self.root}: {exc.strerror or exc}"
            ) from exc
        self.pending = 0
