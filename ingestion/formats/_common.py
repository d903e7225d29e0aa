"""Shared plumbing for the record-format parsers: line decoding, JSON shape checks, envelopes.

Every parser reads landing lines: one JSON record per line (or one text line). The importer may
wrap a record in an envelope `{"_import": {...}, "record": <original>}` carrying what the record
alone lacks (the channel login, the video start for offset-timed formats); parsers accept both
the bare record and the envelope, so re-parsing landing files gives the same events as the import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.events import ChatEvent, EmoteOccurrence, Reject, clamp_emote, utc_from_epoch

ENVELOPE_KEY = "_import"
# Lone UTF-16 surrogates decode from JSON but cannot be stored as UTF-8 text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# Nor can NUL (`\u0000`): PostgreSQL text and jsonb refuse it, which would fail the whole COPY.
_NUL_ESCAPE = "\\u0000"
_LOGIN = re.compile(r"[a-z0-9_]{1,64}")


class FormatError(ValueError):
    """A record with the wrong shape for its format; the message says what is wrong."""


def compact(value: Any) -> str:
    """The compact JSON text of a record, as landed (UTF-8, no spaces)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def envelope(record: Any, ctx: dict[str, Any]) -> str:
    """One landing line: the original record, wrapped when it needs context to be parsed."""
    ctx = {k: v for k, v in ctx.items() if v is not None}
    return compact({ENVELOPE_KEY: ctx, "record": record}) if ctx else compact(record)


def load_record(text: str) -> tuple[Any, dict[str, Any]]:
    """Decode one JSON line into (record, envelope context)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise FormatError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON at char {exc.pos}: {exc.msg}") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            compact(value).encode("utf-8")
        except UnicodeEncodeError:
            raise FormatError("lone UTF-16 surrogate in a string") from None
    if _NUL_ESCAPE in text and _holds_nul(value):
        raise FormatError("NUL character in a string")
    if isinstance(value, dict) and set(value) == {ENVELOPE_KEY, "record"}:
        ctx = value[ENVELOPE_KEY]
        if not isinstance(ctx, dict):
            raise FormatError("envelope context is not an object")
        return value["record"], ctx
    return value, {}


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_holds_nul, value))
    return False


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"{what} is {type(value).__name__}, expected an object")
    return value


def opt_obj(value: Any, what: str) -> dict[str, Any]:
    """An optional object: None and {} both mean absent."""
    return {} if value is None else obj(value, what)


def opt_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FormatError(f"{what} is {type(value).__name__}, expected a list")
    return value


def req_str(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise FormatError(f"missing or empty {key!r}")
    return value


def opt_str(value: Any) -> str | None:
    """Strings and integer ids as text; anything else (None, {}, lists) is absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def opt_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return 0


def login_of(name: str | None) -> str | None:
    """A Twitch login from a login or display name; None when it cannot be one (CJK names)."""
    if not name:
        return None
    name = name.strip().lstrip("#@").lower()
    return name if _LOGIN.fullmatch(name) else None


def parse_utc(value: Any, what: str = "timestamp") -> datetime:
    """ISO-8601 (up to 7 fraction digits, `Z`) to an aware UTC datetime; naive means UTC."""
    if not isinstance(value, str) or not (10 <= len(value) <= 40) or not value[:4].isdigit():
        raise FormatError(f"{what} {value!r} is not an ISO-8601 string")
    text = value.strip().replace("z", "Z")
    # Python 3.11 reads any fraction length but not more than 6 digits' precision for every
    # shape; trimming to microseconds keeps `.5580482Z` and `.99999999Z` alike.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"{what} {value!r} is not an ISO-8601 timestamp") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def offset_time(start: datetime, offset: Any) -> datetime:
    """A video start plus a content offset in seconds."""
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        raise FormatError(f"content offset {offset!r} is not a number")
    if not (0 <= offset < 10 * 365 * 86400):
        raise FormatError(f"content offset {offset!r} out of range")
    return start + timedelta(seconds=offset)


def from_epoch(value: Any, scale: int, what: str) -> datetime:
    """Epoch seconds * scale (1_000 for ms, 1_000_000 for µs) to UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(f"{what} {value!r} is not a number")
    try:
        return utc_from_epoch(value / scale)
    except ValueError:
        raise FormatError(f"{what} {value!r} out of range") from None


def fragment_emotes(
    fragments: list[Any], emote_id_of: Callable[[dict[str, Any]], str | None]
) -> tuple[str, list[EmoteOccurrence]]:
    """Concatenate fragment texts; each emote fragment spans its code points (inclusive end)."""
    parts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    for i, raw in enumerate(fragments):
        frag = obj(raw, f"fragment {i}")
        text = frag.get("text")
        if not isinstance(text, str):
            raise FormatError(f"fragment {i} has no text")
        emote_id = emote_id_of(frag)
        if emote_id and text:
            spans.append((emote_id, pos, pos + len(text) - 1))
        parts.append(text)
        pos += len(text)
    full = "".join(parts)
    emotes = [occ for e, s, t in spans if (occ := clamp_emote(e, s, t, full)) is not None]
    return full, emotes


def badge_pairs(badges: list[Any], name_keys: tuple[str, ...]) -> dict[str, str]:
    """Badge objects to {set: version}; empty placeholders (set name "") are skipped."""
    out: dict[str, str] = {}
    for i, raw in enumerate(badges):
        badge = obj(raw, f"badge {i}")
        name = next((n for k in name_keys if (n := opt_str(badge.get(k)))), None)
        if name:
            out[name] = opt_str(badge.get("version")) or ""
    return out


def decode(line: bytes | str) -> str:
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"invalid UTF-8 at byte {exc.start}") from None
    else:
        text = line
    if "\x00" in text:
        raise FormatError("NUL byte in line")
    return text.rstrip("\r\n")


def run(
    lines: Iterable[bytes | str], source: str, parse_one: Callable[[str], ChatEvent]
) -> Iterator[ChatEvent | Reject]:
    """Parse each non-blank line to exactly one event or one Reject; never raise."""
    for line_no, line in enumerate(lines, start=1):
        raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
        try:
            text = decode(line)
            if not text.strip():
                continue
            yield parse_one(text)
        except FormatError as exc:
            yield Reject(source, raw, str(exc), line_no)
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            OverflowError,
            RecursionError,
        ) as exc:
            # A shape no check anticipated: still a Reject, never a crashed load.
            yield Reject(source, raw, f"unexpected shape: {type(exc).__name__}: {exc}", line_no)
