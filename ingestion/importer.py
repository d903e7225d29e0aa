"""Import chat exports (files or folders) into hourly landing files.

`detect_format` sniffs a file's content (gzip-aware). `import_paths` walks files and folders,
turns each record into one landing line (the original record, re-serialized compactly, wrapped
with the context its parser needs: channel, video start), parses that line exactly as the
partition loader will, and lands it in the hour of its event. Unparseable records are counted
and returned with reasons, never landed.

Idempotence: the lines of one source file for one hour go to `<HH>.<sha8>.<ext>` next to the
usual `<HH>.<ext>`, where sha8 hashes the source file's bytes; the file is written to a temp name
and renamed, so importing the same file again rewrites the same files instead of appending.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain as _chain
from pathlib import Path
from typing import Any, BinaryIO, cast

from ingestion import irc
from ingestion.events import ChatEvent, Reject
from ingestion.formats import FORMATS, normvio
from ingestion.formats._common import envelope, login_of, opt_str, parse_utc
from ingestion.formats.text_log import LINE as TEXT_LINE
from ingestion.landing import hour_floor, landing_path
from ingestion.load import NO_OPTOUTS, OptOuts

IRC_SOURCE = "irc"
ALL_FORMATS = (IRC_SOURCE, *FORMATS)
MAX_KEPT_REJECTS = 1_000_000  # every reject reaches quarantine; bounded against pathological files
_SNIFF_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, as some editors and Windows tools write
_CHAT_SUFFIXES = (".json", ".jsonl", ".txt", ".log")
_SKIP_NAMES = frozenset({"vod.json"})  # VOD metadata beside vod-chat-gql chat, not chat
_VOD_DIR = re.compile(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_(?P<vod>\d+)")
# Twitch chat cannot predate Justin.tv nor come from tomorrow: such a stamp is a broken clock
# (`tmi-sent-ts=0`, Go's zero time) and would stretch the import over decades of empty hours.
EARLIEST_CHAT_AT = datetime(2007, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
_IRC_LINE = re.compile(rb"(\d{10,16}\t)?(@\S+ )?(:\S+ )?[A-Z0-9]{3,20}( |$)")


class UnknownFormatError(ValueError):
    """A file whose content matches no supported chat format."""


class ImportFileError(ValueError):
    """A file of a known format that cannot be imported as a whole (no channel, bad header)."""


def _reject_share(landed: int, rejected: int) -> float:
    total = landed + rejected
    return rejected / total if total else 0.0


@dataclass
class FileReport:
    path: Path
    format: str | None = None
    landed: int = 0
    rejected: int = 0
    skipped: int = 0  # IRC connection chatter (PING, 001, ...) that is no chat event
    opted_out: int = 0  # records by or about opted-out chatters: never landed
    hours: set[datetime] = field(default_factory=set)
    reject_reasons: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)  # the first MAX_KEPT_REJECTS
    landing_files: list[Path] = field(default_factory=list)
    # Landing files of this file that an earlier import already wrote (accepted then).
    landed_before: list[Path] = field(default_factory=list)
    refused: bool = False  # too many rejects: nothing of it was landed by this import
    error: str | None = None  # set when the whole file could not be imported

    @property
    def reject_ratio(self) -> float:
        return _reject_share(self.landed, self.rejected)

    def add_reject(self, reject: Reject) -> None:
        self.rejected += 1
        self.reject_reasons[reject.reason] += 1
        if len(self.rejects) < MAX_KEPT_REJECTS:
            self.rejects.append(reject)


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def landed(self) -> int:
        return sum(f.landed for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def hours(self) -> set[datetime]:
        return set().union(*(f.hours for f in self.files)) if self.files else set()

    @property
    def errors(self) -> list[FileReport]:
        return [f for f in self.files if f.error]

    @property
    def reject_ratio(self) -> float:
        return _reject_share(self.landed, self.rejected)


def _open(path: Path) -> BinaryIO:
    """Binary reader, gunzipping when the content (not the name) says gzip."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return cast(BinaryIO, gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb"))


def _head(path: Path) -> bytes:
    with _open(path) as fh:
        try:
            return fh.read(_SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise UnknownFormatError(f"{path}: unreadable ({exc})") from None


def _json_kind(keys_text: str) -> str | None:
    """The record format from the text of a record (or a file header)."""
    if re.search(r'"bad_utterance"\s*:\s*\{', keys_text):
        return "normvio"
    if '"contentOffsetSeconds"' in keys_text or '"VideoComment"' in keys_text:
        return "gql"
    if re.search(r'"(message_type|action_type|time_in_seconds)"\s*:', keys_text):
        return "chat_downloader"
    if re.search(r'"streamer"\s*:\s*\{', keys_text):
        return "twitchdownloader"
    if re.search(r'"(content_offset_seconds|comments)"\s*:', keys_text):
        return "rechat_v5"
    return None


def detect_format(path: Path) -> str:
    """One of ALL_FORMATS from the file's first bytes; UnknownFormatError when none fits."""
    path = Path(path)
    head = _head(path).removeprefix(_BOM)
    stripped = head.lstrip()
    first_line = stripped.split(b"\n", 1)[0].rstrip(b"\r")
    if stripped[:1] == b"[" and TEXT_LINE.match(first_line.decode("utf-8", "replace")):
        return "text_log"
    if stripped[:1] in (b"[", b"{"):
        kind = _json_kind(stripped[:16384].decode("utf-8", "replace"))
        if kind:
            return kind
        if stripped.rstrip() == b"[]" and path.name.startswith("verbose_chat"):
            return "gql"  # a VOD without chat
    elif _IRC_LINE.match(first_line):
        return IRC_SOURCE
    raise UnknownFormatError(f"{path}: no supported chat format matches (starts {head[:60]!r})")


def _json_records(path: Path) -> Iterator[Any]:
    """A JSON array's items (one file loaded at a time) or JSONL lines, streamed.

    JSONL lines that are not JSON come out as bytes so their parser rejects them with a reason.
    """
    with _open(path) as fh:
        first = fh.read(_SNIFF_BYTES).removeprefix(_BOM)
        if first.lstrip()[:1] == b"[":
            data = json.loads(first + fh.read())
            if not isinstance(data, list):
                raise ImportFileError(f"{path}: expected a JSON array")
            yield from data
            return
        pending = b""
        for chunk in _chain([first], iter(lambda: fh.read(1 << 20), b"")):
            *lines, pending = (pending + chunk).split(b"\n")
            yield from (_json_or_raw(line) for line in lines if line.strip())
        if pending.strip():
            yield _json_or_raw(pending)


def _json_or_raw(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return line


def _lines(path: Path) -> Iterator[bytes]:
    with _open(path) as fh:
        first = fh.readline().removeprefix(_BOM)  # an editor's BOM is not part of the record
        for line in _chain([first], fh) if first else ():
            yield line.rstrip(b"\r\n")


def _gql_context(path: Path, channel_hint: str | None) -> dict[str, Any]:
    vod_dir = path.parent
    vod = _VOD_DIR.fullmatch(vod_dir.name)
    # The `<channel>/<vod dir>/` layout names the channel; the hint is for files outside it.
    layout = vod_dir.parent.name if vod or (vod_dir / "vod.json").exists() else None
    channel = layout or channel_hint
    video_id = vod["vod"] if vod else None
    video_start = None
    meta_path = vod_dir / "vod.json"
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            video_id = opt_str(meta.get("vod_id")) or video_id
            if start := opt_str(meta.get("created_at")):
                video_start = parse_utc(start, "vod.json created_at").isoformat()
        except (ValueError, AttributeError):
            pass  # metadata is optional: the chat records carry their own times
    ctx = {"channel": _require_channel(path, channel), "video_id": video_id}
    return ctx | ({"video_start": video_start} if video_start else {})


def _require_channel(path: Path, channel: str | None) -> str:
    login = login_of(channel)
    if not login:
        raise ImportFileError(f"{path}: no channel login found; pass channel_hint")
    return login


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _v5_lines(path: Path, channel_hint: str | None) -> Iterator[Any]:
    with _open(path) as fh:
        doc: Any = json.load(fh)
    if isinstance(doc, list):  # a bare comments array: times from created_at
        doc = {"comments": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("comments"), list):
        raise ImportFileError(f"{path}: expected an object with a comments array")
    video, streamer = _dict(doc.get("video")), _dict(doc.get("streamer"))
    names = (video.get("user_login"), _dict(video.get("channel")).get("name"),
             streamer.get("login"), streamer.get("name"))  # fmt: skip
    channel = next((c for n in names if login_of(c := opt_str(n))), None) or channel_hint
    start = opt_str(video.get("created_at")) or opt_str(video.get("recorded_at"))
    ctx = {
        "channel": _require_channel(path, channel),
        "video_start": parse_utc(start, "video.created_at").isoformat() if start else None,
        "channel_id": opt_str(video.get("user_id")) or opt_str(streamer.get("id")),
    }
    for comment in doc["comments"]:
        yield envelope(comment, ctx)


def _record_lines(path: Path, fmt: str, channel_hint: str | None) -> Iterator[Any]:
    ctx = (_gql_context(path, channel_hint) if fmt == "gql"
           else {"channel": _require_channel(path, channel_hint)})  # fmt: skip
    for record in _json_records(path):
        yield record if isinstance(record, bytes) else envelope(record, ctx)


def _text_lines(path: Path, channel_hint: str | None, start_hint: datetime | None) -> Iterator[str]:
    """Text log lines in envelopes; `n` counts identical lines so each keeps its own id."""
    ctx: dict[str, Any] = {"channel": login_of(channel_hint),
                           "start": start_hint.isoformat() if start_hint else None}  # fmt: skip
    seen: Counter[bytes] = Counter()
    stamp = b""
    for line in _lines(path):
        if not line.strip():
            continue
        line_stamp = line.split(b"]", 1)[0]
        if line_stamp != stamp:  # logs are chronological: only same-second repeats can collide
            seen.clear()
            stamp = line_stamp
        n = seen[line]
        seen[line] += 1
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield line  # type: ignore[misc]  # rejected by the parser with its reason
            continue
        yield envelope(text, {**ctx, "n": n or None})


def landing_lines(
    path: Path, fmt: str, *, channel_hint: str | None = None, start_hint: datetime | None = None
) -> Iterator[str | bytes]:
    """The landing lines of one file: what its parser reads back at load time."""
    if fmt == IRC_SOURCE:
        return _lines(path)
    if fmt in ("rechat_v5", "twitchdownloader"):
        return _v5_lines(path, channel_hint)
    if fmt == "text_log":
        return _text_lines(path, channel_hint, start_hint)
    if fmt == "normvio":  # one record holds many events: one landing line per entry
        return normvio.landing_lines(_json_records(path), login_of(channel_hint))
    if fmt in FORMATS:
        return _record_lines(path, fmt, channel_hint)
    raise UnknownFormatError(f"unknown format {fmt!r}; expected one of {ALL_FORMATS}")


def parse_landing_lines(fmt: str, lines: Iterable[bytes | str]) -> Iterator[ChatEvent | Reject]:
    if fmt == IRC_SOURCE:
        return irc.parse_lines(lines, source=IRC_SOURCE)
    return FORMATS[fmt](lines)


class _HourSink:
    """Collect one source file's landing lines per (channel, hour), then swap them in atomically."""

    def __init__(self, root: Path, source: str, tag: str, flush_at: int = 20_000) -> None:
        self.root, self.source, self.tag, self.flush_at = root, source, tag, flush_at
        self._buffers: dict[Path, list[bytes]] = {}
        self._by_key: dict[tuple[str, datetime], list[bytes]] = {}
        self._started: set[Path] = set()
        self._buffered = 0

    def path_for(self, channel: str, hour: datetime) -> Path:
        base = landing_path(self.root, self.source, channel, hour)
        return base.with_name(f"{hour_floor(hour):%H}.{self.tag}{base.suffix}")

    def add(self, channel: str, hour: datetime, line: bytes) -> None:
        buffer = self._by_key.get((channel, hour))
        if buffer is None:  # building Paths per line would dominate the import time
            buffer = self._buffers.setdefault(self.path_for(channel, hour), [])
            self._by_key[(channel, hour)] = buffer
        buffer.append(line)
        self._buffered += 1
        if self._buffered >= self.flush_at:
            self._flush()

    def _tmp(self, path: Path) -> Path:
        return path.with_name(f".{path.name}.{os.getpid()}.tmp")

    def _flush(self) -> None:
        for path, lines in self._buffers.items():
            if not lines:
                continue
            tmp = self._tmp(path)
            tmp.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "ab" if path in self._started else "wb") as fh:
                fh.write(b"\n".join(lines) + b"\n")
            self._started.add(path)
            lines.clear()
        self._buffered = 0

    def existing(self) -> list[Path]:
        """The landing files this file maps to that are already there (an earlier import)."""
        self._flush()
        return sorted(path for path in self._started if path.exists())

    def commit(self) -> list[Path]:
        self._flush()
        for path in sorted(self._started):
            tmp = self._tmp(path)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return sorted(self._started)

    def abort(self) -> None:
        for path in self._started:
            self._tmp(path).unlink(missing_ok=True)


def _file_tag(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:8]


def import_file(
    path: Path, landing_root: Path, *, fmt: str | None = None, channel_hint: str | None = None,
    start_hint: datetime | None = None, optouts: OptOuts = NO_OPTOUTS,
    max_reject_ratio: float | None = None,
) -> FileReport:  # fmt: skip
    """Land one file; file-level problems are raised (UnknownFormatError, ImportFileError).
    Records by or about opted-out chatters are counted and neither landed nor quarantined.

    A file whose reject share passes `max_reject_ratio` is refused before anything of it is
    landed, so a crash later in the import cannot leave it in the landing zone."""
    path = Path(path)
    report = FileReport(path, fmt or detect_format(path))
    fmt = report.format
    assert fmt is not None
    sink = _HourSink(Path(landing_root), fmt, _file_tag(path))
    latest = datetime.now(UTC) + FUTURE_SLACK
    try:
        lines = landing_lines(path, fmt, channel_hint=channel_hint, start_hint=start_hint)
        for record_no, line in enumerate(lines, start=1):
            items = list(parse_landing_lines(fmt, [line]))
            if not items:
                report.skipped += 1
                continue
            item = items[0]
            if optouts and optouts.drops(item):
                report.opted_out += 1
            elif isinstance(item, Reject):
                report.add_reject(dataclasses.replace(item, line_no=record_no))
            elif login_of(item.channel) != item.channel:  # never let a name escape landing/
                reason = f"channel {item.channel!r} is not a Twitch login"
                report.add_reject(Reject(fmt, item.raw.encode("utf-8", "surrogatepass"), reason,
                                         record_no))  # fmt: skip
            elif not EARLIEST_CHAT_AT <= item.sent_at <= latest:
                reason = (f"sent at {item.sent_at.isoformat()}, outside"
                          f" {EARLIEST_CHAT_AT:%Y-%m-%d} to tomorrow")  # fmt: skip
                report.add_reject(Reject(fmt, item.raw.encode("utf-8", "surrogatepass"), reason,
                                         record_no, item.channel))  # fmt: skip
            else:
                hour = hour_floor(item.sent_at)
                data = line if isinstance(line, bytes) else line.encode("utf-8")
                sink.add(item.channel, hour, data)
                report.landed += 1
                report.hours.add(hour)
        report.landed_before = sink.existing()
        if max_reject_ratio is not None and report.reject_ratio > max_reject_ratio:
            report.refused = True
            sink.abort()
        else:
            report.landing_files = sink.commit()
    except BaseException:
        sink.abort()
        raise
    return report


def iter_chat_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Given files as they are; folders walked in a stable order for chat-looking files."""
    for path in map(Path, paths):
        if not path.is_dir():
            yield path
            continue
        for child in sorted(path.rglob("*")):
            name = child.name
            if not child.is_file() or name.startswith(".") or name in _SKIP_NAMES:
                continue
            if name.removesuffix(".gz").endswith(_CHAT_SUFFIXES):
                yield child


def import_paths(
    paths: Iterable[Path], landing_root: Path, *, channel_hint: str | None = None,
    start_hint: datetime | None = None, progress: Callable[[FileReport], None] | None = None,
    optouts: OptOuts = NO_OPTOUTS, max_reject_ratio: float | None = None,
) -> ImportReport:  # fmt: skip
    """Import files and folders; a file that cannot be imported is reported with its error.

    `channel_hint` names the channel for formats that carry none (chat_downloader, text logs,
    gql files outside the `<channel>/<vod dir>/` layout); `start_hint` is the video start for
    text logs with relative `[H:MM:SS]` times. `progress` is called after each file. Records of
    `optouts` (`ingestion.load.read_optouts`) are not landed, nor is a file whose reject share
    passes `max_reject_ratio`.
    """
    report = ImportReport()
    for path in iter_chat_files(paths):
        try:
            file_report = import_file(path, landing_root, channel_hint=channel_hint,
                                      start_hint=start_hint, optouts=optouts,
                                      max_reject_ratio=max_reject_ratio)  # fmt: skip
        except (UnknownFormatError, ImportFileError, OSError, EOFError, ValueError) as exc:
            file_report = FileReport(path, error=f"{type(exc).__name__}: {exc}")
        report.files.append(file_report)
        if progress is not None:
            progress(file_report)
    return report
