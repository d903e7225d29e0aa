"""Parse landing lines in one worker process while the loader streams COPY data to PostgreSQL.

The partition loader (`ingestion.load`) keeps reading the landing files in its own thread and
cuts their lines into batches. A batch goes to the worker while it has room (`in_flight`);
otherwise, if the batch holds whole files, the loader parses it itself. Either side parses with
the per-source parsers, applies the loader's filters (`load._accept`: window hour, opt-outs,
rejects) and encodes the kept events as binary-COPY rows (`load.copy_row` through psycopg's own
row formatter); the (channel, event_id) keys come back so the loader alone tracks repeats. The
loader writes the results to its COPY in batch order, so two cores parse while PostgreSQL works.

Protocol, all in order: the loader sends batches (lists of `Segment`s: a file index, lines of that
file, whether the file ends there; a file cut over batches is all sent to the worker) and a final
`None`. For every batch the worker sends exactly one `BatchResult` (or an error) holding what it
produced while consuming that batch: a parser may hold a line back until it sees the next one, so
a row can come with the batch after the one its line was in, never out of order.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingestion.events import Reject
from ingestion.load import (
    COPY_TYPES,
    PARSE_WORKER_NAME,
    OptOuts,
    _accept,
    _Tally,
    copy_row,
    use_copy_dumpers,
)
from ingestion.sources import parser_for

# (file index, lines of that file, whether the file's last line is in this segment)
Segment = tuple[int, list[bytes], bool]
Batch = list[Segment]

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"


class ParseWorkerError(RuntimeError):
    """The parse worker died or failed: the load is aborted (its transaction rolls back)."""


@dataclass(frozen=True)
class WorkerSpec:
    files: list[tuple[str, datetime]]  # (source, landing hour) per file index
    optouts: OptOuts


@dataclass
class BatchResult:
    data: bytes  # binary COPY rows, without the signature and trailer
    rows: int = 0
    parsed: int = 0
    opted_out: int = 0
    rejects: list[tuple[int, Reject]] = field(default_factory=list)  # (file index, reject)
    # (channel, event_id) of the rows: the loader tracks repeats over both processes
    keys: list[tuple[str, str]] = field(default_factory=list)


class _KeyLog:
    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []

    def add(self, channel: str, event_id: str) -> None:
        self.keys.append((channel, event_id))


def _row_encoder() -> Callable[[tuple, bytearray], None]:
    """psycopg's binary COPY row formatter with the loader's column types (UTF-8 text)."""
    from psycopg import adapters, pq
    from psycopg._copy_base import format_row_binary  # what Copy.write_row itself calls
    from psycopg.adapt import AdaptersMap, Transformer

    copy_adapters = AdaptersMap(adapters)
    use_copy_dumpers(copy_adapters)
    tx = Transformer(copy_adapters)
    tx.set_dumper_types([adapters.types.get_oid(t) for t in COPY_TYPES], pq.Format.BINARY)

    def encode(row: tuple, out: bytearray) -> None:
        format_row_binary(row, tx, out)

    return encode


def parse_whole_files(
    batch: Batch, spec: WorkerSpec, encode: Callable[[tuple, bytearray], None]
) -> BatchResult:
    """A batch of whole files parsed in this process: what the worker would send for it."""
    out = bytearray()
    tally, keylog = _Tally(), _KeyLog()
    rejects: list[tuple[int, Reject]] = []
    rows = 0
    for index, lines, _ in batch:
        source, hour = spec.files[index]

        def reject(item: Reject, index: int = index) -> None:
            rejects.append((index, item))

        for event in _accept(parser_for(source)(lines), hour, spec.optouts, keylog, reject, tally):
            encode(copy_row(event), out)
            rows += 1
    return BatchResult(bytes(out), rows, tally.parsed, tally.opted_out, rejects, keylog.keys)


# ---------------------------------------------------------------------------------------------
# The worker process
# ---------------------------------------------------------------------------------------------


class _Feed:
    """The worker's input: segments in order; before waiting for a batch, results are sent."""

    def __init__(self, inbox: Connection, outbox: Connection) -> None:
        self.inbox, self.outbox = inbox, outbox
        self.segments: Batch = []
        self.pos = 0
        self.open_batch = False  # a batch received whose result is not sent yet
        self.out = bytearray()
        self.rows = 0
        self.tally = _Tally()
        self.keylog = _KeyLog()
        self.rejects: list[tuple[int, Reject]] = []

    def next_segment(self) -> Segment | None:
        if self.pos == len(self.segments):
            if self.open_batch:
                self.flush()
            batch = self.inbox.recv()
            if batch is None:
                return None
            self.segments, self.pos, self.open_batch = batch, 0, True
        segment = self.segments[self.pos]
        self.pos += 1
        return segment

    def flush(self) -> None:
        tally = self.tally
        result = BatchResult(
            bytes(self.out), self.rows, tally.parsed, tally.opted_out, self.rejects,
            self.keylog.keys,
        )  # fmt: skip
        self.outbox.send(("ok", result))
        # Reset in place: the running `_accept` holds the tally and the key log.
        self.out = bytearray()
        self.rows = tally.parsed = tally.opted_out = 0
        self.keylog.keys = []
        self.rejects = []
        self.open_batch = False


class _FileLines:
    """One landing file's lines, as they arrive over the batches that hold them."""

    def __init__(self, feed: _Feed, first: Segment) -> None:
        self.feed = feed
        self.index = first[0]
        self.pending: list[bytes] | None = first[1]
        self.ended = first[2]

    def __iter__(self) -> Iterator[bytes]:
        while self.pending is not None:
            lines, self.pending = self.pending, None
            yield from lines
            if not self.ended:
                self._advance()

    def _advance(self) -> None:
        segment = self.feed.next_segment()
        if segment is None or segment[0] != self.index:
            raise ParseWorkerError(f"landing file #{self.index} was cut short")
        _, self.pending, self.ended = segment

    def drain(self) -> None:
        """Skip what a parser left unread (the single-process loader never reads it either)."""
        while not self.ended:
            self._advance()
        self.pending = None


def _work(inbox: Connection, outbox: Connection, spec: WorkerSpec) -> None:
    feed = _Feed(inbox, outbox)
    encode = _row_encoder()
    while (segment := feed.next_segment()) is not None:
        index = segment[0]
        source, hour = spec.files[index]
        lines = _FileLines(feed, segment)

        def reject(item: Reject, index: int = index) -> None:
            feed.rejects.append((index, item))

        items = parser_for(source)(lines)
        for event in _accept(items, hour, spec.optouts, feed.keylog, reject, feed.tally):
            encode(copy_row(event), feed.out)
            feed.rows += 1
        lines.drain()


def _worker_main(inbox: Connection, outbox: Connection, spec: WorkerSpec) -> None:
    try:
        _work(inbox, outbox, spec)
    except (EOFError, BrokenPipeError):  # the loader is gone: nothing to report to
        return
    except BaseException as exc:
        detail = traceback.format_exc()
        try:
            payload: Any = pickle.dumps(exc)
        except Exception:
            payload = None
        with contextlib.suppress(OSError):
            outbox.send(("error", (payload, detail)))


# ---------------------------------------------------------------------------------------------
# The loader's side
# ---------------------------------------------------------------------------------------------


def worker_allowed() -> bool:
    """Whether a worker can help: a second core, and not inside a daemonic process (which may
    not start children, as in some executors' pools)."""
    if multiprocessing.current_process().daemon:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1


def _widen_pipe(conn: Any) -> None:
    """Big pipe buffers: a batch moves in a few reads instead of hundreds of 64 KiB ones.

    Each read by a helper thread must take the GIL back from the loader's thread, which may
    hold it for a whole switch interval while it parses; with small chunks the transfer of one
    batch would wait hundreds of intervals while the worker sits blocked on the pipe.
    """
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is None:
        return
    try:
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except (OSError, ValueError):
        limit = 1 << 20
    with contextlib.suppress(OSError):
        fcntl.fcntl(conn.fileno(), setpipe, min(limit, 1 << 24))


class ParseWorker:
    """One worker process: `send` batches, `take` a `BatchResult` per batch, in order.

    Two helper threads move data through the pipes so that neither side ever waits on the
    other's pipe: one sends batches (a big one blocks until the worker takes it), one receives
    results as soon as the worker has them (the worker sends one before it takes a batch).
    The loader's thread only reads files, parses some itself and writes COPY data.
    """

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.pending = 0  # batches sent whose result is not taken yet
        self.process: Any = None
        self._sendq: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._recvq: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._send_error: BaseException | None = None

    def __enter__(self) -> ParseWorker:
        # 'spawn': a fresh interpreter, no copy of the loader's connection, threads or locks
        # (safe inside Dagster, pytest-xdist workers and threaded callers).
        ctx = multiprocessing.get_context("spawn")
        in_r, self._in_w = ctx.Pipe(duplex=False)
        self._out_r, out_w = ctx.Pipe(duplex=False)
        for conn in (self._in_w, self._out_r):
            _widen_pipe(conn)
        self.process = ctx.Process(
            target=_worker_main, args=(in_r, out_w, self.spec), name=PARSE_WORKER_NAME,
            daemon=True,
        )  # fmt: skip
        self.process.start()
        # Only the worker holds these ends now: its death shows as EOF / a broken pipe here.
        in_r.close()
        out_w.close()
        for target, name in ((self._send_loop, "feed"), (self._receive_loop, "results")):
            thread = threading.Thread(target=target, name=f"parse-worker-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _send_loop(self) -> None:
        while True:
            batch = self._sendq.get()
            try:
                self._in_w.send(batch)
            except BaseException as exc:  # the worker died; the receiving side reports it
                self._send_error = exc
                return
            if batch is None:
                return

    def _receive_loop(self) -> None:
        while True:
            try:
                message = self._out_r.recv()
            except (EOFError, OSError):
                self._recvq.put(("dead", None))
                return
            self._recvq.put(message)
            if message[0] != "ok":
                return

    def send(self, batch: Batch) -> None:
        self.pending += 1
        self._sendq.put(batch)

    def take(self, block: bool) -> BatchResult | None:
        """The result of the oldest batch sent; None if not there yet (and not `block`)."""
        try:
            kind, payload = self._recvq.get(block)
        except queue.Empty:
            return None
        if kind == "ok":
            self.pending -= 1
            return payload
        if kind == "dead":
            self.process.join(5)
            raise ParseWorkerError(
                f"the parse worker (pid {self.process.pid}) died with exit code"
                f" {self.process.exitcode}; the load is rolled back"
            ) from self._send_error
        pickled, detail = payload
        error = ParseWorkerError(f"the parse worker failed; its traceback:\n{detail}")
        original = None
        if pickled is not None:
            with contextlib.suppress(Exception):
                original = pickle.loads(pickled)
        if isinstance(original, BaseException):
            raise original from error
        raise error

    def finish(self) -> None:
        self._sendq.put(None)

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        process = self.process
        if exc_type is None:
            process.join(30)
        if process.is_alive():  # failed load (or a stuck worker): no result is wanted any more
            process.kill()
            process.join(10)
        self._sendq.put(None)
        for thread in self._threads:  # both end: the worker's pipe ends are closed now
            thread.join(10)
        for conn in (self._in_w, self._out_r):
            conn.close()


def parse_alongside(
    spec: WorkerSpec, batches: Iterable[Batch], apply: Callable[[BatchResult], None],
    in_flight: int = 2,
) -> None:  # fmt: skip
    """Parse `batches` in the worker and, while it is busy, here; `apply` results in order.

    A batch goes to the worker while it has fewer than `in_flight`; otherwise this process
    parses it (if it holds whole files: a file cut over batches is all parsed at the worker),
    so both cores parse while PostgreSQL takes the COPY data `apply` writes. Batches parsed here
    wait behind the worker's earlier ones: at most `2 * in_flight` results are held.
    """
    encode = _row_encoder()
    slots: deque[BatchResult | None] = deque()  # None: the worker's, in the order sent
    with ParseWorker(spec) as worker:

        def write_head(block: bool) -> bool:
            head = slots[0]
            if head is None:
                head = worker.take(block)
                if head is None:
                    return False
            slots.popleft()
            apply(head)
            return True

        cut = False  # the previous batch ended inside a file
        for batch in batches:
            continues, cut = cut, not batch[-1][2]
            while slots and write_head(block=False):
                pass
            if continues or cut or worker.pending < in_flight:
                while worker.pending >= in_flight:
                    write_head(block=True)
                worker.send(batch)
                slots.append(None)
            else:
                slots.append(parse_whole_files(batch, spec, encode))
            while len(slots) > 2 * in_flight:
                write_head(block=True)
        while slots:
            write_head(block=True)
        worker.finish()
