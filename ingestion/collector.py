"""Live Twitch chat capture: anonymous IRC (TLS, plain TCP or WebSocket) into hourly landing files.

Every channel line the server sends is appended unchanged to
`<landing>/irc/<channel>/<date>/<HH>.log`, keyed by its `tmi-sent-ts` hour (lines without one get
a `<epoch-ms>\\t` receive-time prefix). Lines are flushed+fsynced in small batches and at least
every `flush_interval` seconds, so a kill -9 loses at most the last unflushed batch; on restart
the current hour's file is read back so a replaying server never lands a line twice. Time the
collector could not cover (disconnects, RECONNECTs) is recorded in `<landing>/gaps.jsonl`.

Run: `python -m ingestion.collector --landing-root DIR [--url URL] CHANNEL...`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import ssl
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from ingestion.clients.landing_sink import LandingSink, LandingWriteError, irc_dedup_key
from ingestion.events import utc_from_epoch
from ingestion.irc import IrcParseError, parse_line, tokenize
from ingestion.load import NO_OPTOUTS, OptOuts
from twitch_warehouse.logging import get_logger

log = get_logger(__name__)

DEFAULT_URL = "ircs://irc.chat.twitch.tv:6697"
WEBSOCKET_URL = "wss://irc-ws.chat.twitch.tv:443"
CAPABILITIES = "twitch.tv/tags twitch.tv/commands twitch.tv/membership"
# Channel-scoped commands worth landing; everything else is connection chatter.
CHANNEL_COMMANDS = frozenset(
    {
        "PRIVMSG",
        "CLEARCHAT",
        "CLEARMSG",
        "USERNOTICE",
        "NOTICE",
        "ROOMSTATE",
        "JOIN",
        "PART",
        "USERSTATE",
        "HOSTTARGET",
    }
)


# The channel a line names, for lines the tokenizer refuses (`PRIVMSG #chan :...`).
_CHANNEL_OF_LINE = re.compile(r" (?:PRIVMSG|USERNOTICE|CLEARCHAT|CLEARMSG|NOTICE) #(\w{1,64})")


class CollectorError(RuntimeError):
    """The collector cannot go on (landing not writable, login refused); exit non-zero."""


class TokenBucket:
    """`capacity` tokens per `per` seconds; Twitch allows 20 anonymous JOINs per 10 s.

    Each spent token comes back `per` seconds after it was spent (not continuously, as in a
    classic bucket): a classic bucket would allow a full burst plus the refill, up to 39 JOINs
    in one 10 s window, which Twitch counts against us.
    """

    def __init__(self, capacity: int = 20, per: float = 10.0) -> None:
        self.capacity = capacity
        self.per = per
        self._spent: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            while self._spent and now - self._spent[0] >= self.per:
                self._spent.popleft()
            if len(self._spent) < self.capacity:
                self._spent.append(now)
                return
            await asyncio.sleep(self._spent[0] + self.per - now)


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff, so many collectors don't reconnect in lockstep."""
    return random.uniform(0, min(cap, base * 2**attempt))


class _Connection(Protocol):
    async def send(self, line: str) -> None: ...
    async def readline(self) -> str: ...
    async def close(self) -> None: ...


class _TcpConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int, *, tls: bool) -> _TcpConnection:
        ctx = ssl.create_default_context() if tls else None
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ctx, server_hostname=host if tls else None, limit=1 << 20
        )
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def readline(self) -> str:
        raw = await self.reader.readline()
        if not raw:
            raise ConnectionResetError("server closed the connection")
        return raw.decode("utf-8", "surrogateescape").rstrip("\r\n")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self.writer.wait_closed()


class _WsConnection:
    """IRC over WebSocket: one frame may carry several CRLF-separated lines."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._buffer: list[str] = []

    @classmethod
    async def open(cls, url: str) -> _WsConnection:
        from websockets.asyncio.client import connect

        return cls(await connect(url, max_size=1 << 22, ping_interval=None))

    async def send(self, line: str) -> None:
        await self.ws.send(line)

    async def readline(self) -> str:
        from websockets.exceptions import ConnectionClosed

        while not self._buffer:
            try:
                frame = await self.ws.recv()
            except ConnectionClosed as exc:
                raise ConnectionResetError(f"websocket closed: {exc}") from exc
            text = frame.decode("utf-8", "surrogateescape") if isinstance(frame, bytes) else frame
            self._buffer = [line for line in text.split("\r\n") if line]
        return self._buffer.pop(0)

    async def close(self) -> None:
        await self.ws.close()


async def _open(url: str) -> _Connection:
    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        return await _WsConnection.open(url)
    if parts.scheme not in ("irc", "ircs"):
        raise CollectorError(f"unsupported collector url scheme {parts.scheme!r}")
    tls = parts.scheme == "ircs"
    return await _TcpConnection.open(
        parts.hostname or "", parts.port or (6697 if tls else 6667), tls=tls
    )


@dataclass
class CollectorStats:
    lines_written: int = 0
    duplicates_skipped: int = 0
    opted_out_skipped: int = 0
    connections: int = 0
    gaps: list[dict[str, str]] = field(default_factory=list)


class _Reconnect(Exception):
    """The server asked us to reconnect (RECONNECT) or the connection went quiet."""


class Collector:
    def __init__(
        self,
        channels: Sequence[str],
        landing_root: Path,
        *,
        url: str = DEFAULT_URL,
        nick: str | None = None,
        batch_size: int = 50,
        flush_interval: float = 0.2,
        join_bucket: TokenBucket | None = None,
        idle_timeout: float = 330.0,
        pong_timeout: float = 15.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        optouts: Callable[[], OptOuts] | None = None,
        optout_refresh: float = 60.0,
    ) -> None:
        self.channels = sorted({c.lower().lstrip("#") for c in channels})
        if not self.channels:
            raise CollectorError("no channels to collect")
        self.landing_root = landing_root
        self.url = url
        self.nick = nick or f"justinfan{random.randint(10_000, 99_999_999)}"
        self.flush_interval = flush_interval
        self.join_bucket = join_bucket or TokenBucket()
        self.idle_timeout = idle_timeout
        self.pong_timeout = pong_timeout
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sink = LandingSink(landing_root, "irc", irc_dedup_key, batch_size=batch_size)
        self.stats = CollectorStats()
        self._gap_start: datetime | None = None
        self._gap_reason = ""
        self._joined: set[str] = set()
        self._flush_hour = -1
        # Opted-out chatters' lines are never written (`optouts` reads the list, in a thread,
        # every `optout_refresh` seconds); the loader drops any that land before a refresh.
        self._read_optouts, self.optout_refresh = optouts, optout_refresh
        self._optouts, self._optouts_read_at = NO_OPTOUTS, -optout_refresh

    # -- landing ---------------------------------------------------------------------------
    async def _refresh_optouts(self) -> None:
        if self._read_optouts is None:
            return
        if time.monotonic() - self._optouts_read_at < self.optout_refresh:
            return
        self._optouts_read_at = time.monotonic()
        try:
            self._optouts = await asyncio.to_thread(self._read_optouts)
        except Exception as exc:  # keep capturing with the last list; the loader filters too
            log.warning("collector.optouts_unreadable", error=type(exc).__name__)

    def _opted_out(self, line: str, received: datetime) -> bool:
        if not self._optouts:
            return False
        try:
            event = parse_line(line, received_ms=int(received.timestamp() * 1000))
        except (IrcParseError, ValueError, OverflowError):  # as the loader: landed, quarantined
            return self._optouts.named_in(line.encode("utf-8", "surrogatepass"))
        return event is not None and self._optouts.covers(event)

    def _land(self, line: str, received: datetime) -> None:
        if self._opted_out(line, received):
            self.stats.opted_out_skipped += 1
            return
        try:
            msg = tokenize(line)
        except IrcParseError as exc:
            # Landed anyway under its channel (when it names one) and receive time, so the load
            # quarantines it with the reason; logged without its text.
            log.warning("collector.unparsable_line", reason=str(exc), length=len(line))
            if named := _CHANNEL_OF_LINE.search(line):
                stamped = f"{int(received.timestamp() * 1000)}\t{line}"
                if self.sink.write(named.group(1).lower(), received, stamped):
                    self.stats.lines_written += 1
            return
        if msg.command not in CHANNEL_COMMANDS or not msg.params or msg.params[0][:1] != "#":
            return
        channel = msg.params[0][1:].lower()
        try:
            hour = utc_from_epoch(int(msg.tags.get("tmi-sent-ts", "")) / 1000)
        except ValueError:  # no usable send time: file it under the receive time, recorded
            hour = received
            line = f"{int(received.timestamp() * 1000)}\t{line}"
        if self.sink.write(channel, hour, line):
            self.stats.lines_written += 1
        else:
            self.stats.duplicates_skipped += 1

    def _record_gap(self, end: datetime) -> None:
        if self._gap_start is None:
            return
        gap = {
            "start": self._gap_start.isoformat(),
            "end": end.isoformat(),
            "reason": self._gap_reason,
            "channels": ",".join(self.channels),
        }
        self._gap_start = None
        self.stats.gaps.append(gap)
        try:
            with open(self.landing_root / "gaps.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(gap) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise LandingWriteError(f"cannot write {self.landing_root}/gaps.jsonl: {exc}") from exc
        log.warning("collector.gap", **gap)

    def _open_gap(self, reason: str) -> None:
        if self._gap_start is None:
            self._gap_start = datetime.now(UTC)
            self._gap_reason = reason

    # -- one connection --------------------------------------------------------------------
    async def _join_all(self, conn: _Connection) -> None:
        for channel in self.channels:
            await self.join_bucket.acquire()
            await conn.send(f"JOIN #{channel}")

    async def _session(self, conn: _Connection) -> None:
        await conn.send(f"CAP REQ :{CAPABILITIES}")
        await conn.send("PASS SCHMOOPIIE")
        await conn.send(f"NICK {self.nick}")
        joiner: asyncio.Task[None] | None = None
        awaiting_pong = False
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                    # that races a completed read, and then stop() would never end the session.
                    async with asyncio.timeout(
                        self.pong_timeout if awaiting_pong else self.idle_timeout
                    ):
                        line = await conn.readline()
                except TimeoutError:
                    if awaiting_pong:
                        raise _Reconnect("no PONG from server") from None
                    await conn.send("PING :tmi.twitch.tv")  # quiet channels: is the link alive?
                    awaiting_pong = True
                    continue
                awaiting_pong = False
                received = datetime.now(UTC)
                command = _command(line)
                if command == "PING":
                    await conn.send("PONG :" + line.rsplit(":", 1)[-1] if ":" in line else "PONG")
                elif command == "RECONNECT":
                    raise _Reconnect("server sent RECONNECT")
                elif command == "001":
                    joiner = asyncio.create_task(self._join_all(conn))
                elif command == "NOTICE" and " NOTICE * :" in line:
                    raise CollectorError(f"login refused by server: {line.rsplit(':', 1)[-1]}")
                elif command in ("JOIN", "PART") and line.startswith(f":{self.nick}!"):
                    # Our own membership echo is not chat; it confirms the JOIN went through.
                    self._joined.add(line.rsplit("#", 1)[-1].strip().lower())
                    if self._joined >= set(self.channels):
                        self._record_gap(received)
                    continue
                self._land(line, received)
        finally:
            if joiner is not None:
                joiner.cancel()

    # -- the loop --------------------------------------------------------------------------
    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            await self._refresh_optouts()
            if self.sink.pending:
                self.sink.flush()
            hour = datetime.now(UTC).hour
            if hour != self._flush_hour:  # new hour: close last hour's files
                self._flush_hour = hour
                self.sink.rotate()

    async def run(self, stop_event: asyncio.Event) -> CollectorStats:
        self.sink.check_writable()
        await self._refresh_optouts()
        self._flush_hour = datetime.now(UTC).hour
        flusher = asyncio.create_task(self._flusher())
        attempt = 0
        failed = True
        try:
            while not stop_event.is_set():
                started = time.monotonic()
                conn: _Connection | None = None
                reason = ""
                try:
                    conn = await _open(self.url)
                    self.stats.connections += 1
                    self._joined = set()
                    session = asyncio.create_task(self._session(conn))
                    stopper = asyncio.create_task(stop_event.wait())
                    done, _ = await asyncio.wait(
                        {session, flusher, stopper}, return_when=asyncio.FIRST_COMPLETED
                    )
                    stopper.cancel()
                    if flusher in done:
                        flusher.result()  # landing failure: raise it
                    if session in done:
                        session.result()
                    else:
                        session.cancel()
                        await asyncio.gather(session, return_exceptions=True)
                        break
                except _Reconnect as exc:
                    reason = str(exc)
                except (OSError, ssl.SSLError, TimeoutError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                finally:
                    if conn is not None:
                        await conn.close()
                self._open_gap(reason or "disconnected")
                if time.monotonic() - started > 60 or reason == "server sent RECONNECT":
                    attempt = 0  # the link was healthy; don't punish it with a long wait
                delay = (
                    0.0
                    if reason == "server sent RECONNECT"
                    else backoff_delay(attempt, self.backoff_base, self.backoff_cap)
                )
                attempt += 1
                log.warning("collector.reconnect", reason=reason, delay=round(delay, 2))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop_event.wait()
                if flusher.done():
                    flusher.result()
            failed = False
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            try:
                self.sink.close()
                self._record_gap(datetime.now(UTC))  # a stop while disconnected is a gap too
            except LandingWriteError:
                if not failed:
                    raise  # otherwise keep the original error
        self.stats.duplicates_skipped = self.sink.duplicates
        return self.stats


def _command(line: str) -> str:
    rest = line
    if rest.startswith("@"):
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    if rest.startswith(":"):
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    return rest.split(" ", 1)[0].upper()


async def run_collector(
    channels: Sequence[str],
    landing_root: Path,
    *,
    url: str = DEFAULT_URL,
    stop_event: asyncio.Event | None = None,
    max_runtime: float | None = None,
    **options: object,
) -> CollectorStats:
    """Collect until `stop_event` is set or `max_runtime` seconds pass; raises CollectorError
    (LandingWriteError) when lines cannot be landed. `options` go to `Collector`."""
    stop_event = stop_event or asyncio.Event()
    collector = Collector(channels, Path(landing_root), url=url, **options)  # type: ignore[arg-type]
    timer = None
    if max_runtime is not None:
        timer = asyncio.get_running_loop().call_later(max_runtime, stop_event.set)
    try:
        return await collector.run(stop_event)
    finally:
        if timer is not None:
            timer.cancel()


def main(
    channels: Sequence[str],
    landing_root: Path | None = None,
    *,
    url: str = DEFAULT_URL,
    max_runtime: float | None = None,
    batch_size: int = 50,
    optouts: Callable[[], OptOuts] | None = None,
) -> int:
    """Blocking entry point for the CLI; SIGINT/SIGTERM stop cleanly. Returns the exit code:
    0, 1 when it never connected, 2 when lines could not be landed. `optouts` reads the opt-out
    list (default: the warehouse's)."""
    if landing_root is None:
        from twitch_warehouse.settings import get_settings

        landing_root = get_settings().landing_dir

    async def _run() -> CollectorStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_collector(
            channels,
            landing_root,
            url=url,
            stop_event=stop,
            max_runtime=max_runtime,
            batch_size=batch_size,
            optouts=optouts or _warehouse_optouts,
        )

    try:
        stats = asyncio.run(_run())
    except (CollectorError, LandingWriteError) as exc:
        print(f"collector: error: {exc}", file=sys.stderr)
        return 2
    log.info(
        "collector.stopped",
        lines=stats.lines_written,
        duplicates=stats.duplicates_skipped,
        opted_out=stats.opted_out_skipped,
        connections=stats.connections,
        gaps=len(stats.gaps),
    )
    if stats.connections == 0:  # a supervisor must see that nothing was captured
        print(f"collector: error: could not connect to {url}", file=sys.stderr)
        return 1
    return 0


def _warehouse_optouts() -> OptOuts:
    from ingestion.load import read_optouts
    from twitch_warehouse.db import connect, warehouse_url

    with connect(warehouse_url(), connect_timeout=10) as conn:
        return read_optouts(conn)


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.collector", description=__doc__)
    parser.add_argument("channels", nargs="+")
    parser.add_argument("--landing-root", type=Path, default=None)
    parser.add_argument(
        "--url",
        default=DEFAULT_URL,
        help=f"ircs://host:port (TLS), irc://host:port (plain), or {WEBSOCKET_URL}",
    )
    parser.add_argument("--max-runtime", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args(argv)
    return main(
        args.channels,
        args.landing_root,
        url=args.url,
        max_runtime=args.max_runtime,
        batch_size=args.batch_size,
    )


if __name__ == "__main__":
    sys.exit(_cli())
