"""A loopback Twitch IRC server replaying real lines (plain TCP or WebSocket, 127.0.0.1 only).

It answers CAP/PASS/NICK/JOIN like tmi.twitch.tv, sends ROOMSTATE (no tmi-sent-ts, like Twitch)
on JOIN, streams the replay lines in small timed chunks, sends PINGs and records PONGs, and can
send RECONNECT or drop the connection at chosen positions. After a drop it resumes
`resume_overlap` lines early (a replaying server resending lines the client already has); with
`replay_from_start` every connection starts again at line 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def load_replay_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line.rstrip("\r\n") for line in fh if line.strip()]


@dataclass
class IrcReplayServer:
    lines: Sequence[str]
    channel: str = "xqcow"
    chunk: int = 50
    tick: float = 0.005
    ping_every: int | None = None  # lines between server PINGs
    drop_at: set[int] = field(default_factory=set)  # positions where the server hangs up
    reconnect_at: set[int] = field(default_factory=set)  # positions where it sends RECONNECT
    resume_overlap: int = 0
    replay_from_start: bool = False
    websocket: bool = False
    # observations
    cursor: int = 0
    connections: int = 0
    pings_sent: int = 0
    pongs: int = 0
    joins: list[tuple[float, str]] = field(default_factory=list)
    nicks: list[str] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    caps: list[str] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> str:
        if self.websocket:
            self._server = await serve(self._ws_handler, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            return f"ws://127.0.0.1:{port}"
        self._server = await asyncio.start_server(self._tcp_handler, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"irc://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def __aenter__(self) -> IrcReplayServer:
        self.url = await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # transports ---------------------------------------------------------------------------
    async def _tcp_handler(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        async def send(lines: list[str]) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())
            await writer.drain()

        async def recv() -> str | None:
            raw = await reader.readline()
            return raw.decode().rstrip("\r\n") if raw else None

        try:
            await self._session(send, recv)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _ws_handler(self, ws: ServerConnection) -> None:
        pending: list[str] = []

        async def send(lines: list[str]) -> None:
            await ws.send("\r\n".join(lines) + "\r\n")  # several lines per frame, like Twitch

        async def recv() -> str | None:
            while not pending:
                try:
                    frame = await ws.recv()
                except ConnectionClosed:
                    return None
                text = frame if isinstance(frame, str) else frame.decode()
                pending.extend(line for line in text.split("\r\n") if line)
            return pending.pop(0)

        with contextlib.suppress(ConnectionClosed):
            await self._session(send, recv)

    # protocol -----------------------------------------------------------------------------
    async def _session(self, send, recv) -> None:
        self.connections += 1
        nick = "justinfan0"
        streaming = asyncio.Event()
        if self.replay_from_start:
            self.cursor = 0

        async def reader() -> None:
            nonlocal nick
            while (line := await recv()) is not None:
                cmd, _, arg = line.partition(" ")
                if cmd == "CAP":
                    self.caps.append(arg)
                    await send([f":tmi.twitch.tv CAP * ACK {arg.removeprefix('REQ ')}"])
                elif cmd == "PASS":
                    self.passes.append(arg)
                elif cmd == "NICK":
                    nick = arg
                    self.nicks.append(nick)
                    await send(
                        [
                            f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!",
                            f":tmi.twitch.tv 376 {nick} :>",
                        ]
                    )
                elif cmd == "JOIN":
                    for chan in arg.split(","):
                        self.joins.append((time.monotonic(), chan))
                        name = chan.lstrip("#")
                        await send(
                            [
                                f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN {chan}",
                                f":{nick}.tmi.twitch.tv 353 {nick} = {chan} :{nick}",
                                f":{nick}.tmi.twitch.tv 366 {nick} {chan} :End of /NAMES list",
                                f"@emote-only=0;followers-only=-1;r9k=0;room-id=71092938;slow=0;"
                                f"subs-only=0 :tmi.twitch.tv ROOMSTATE {chan}",
                            ]
                        )
                        if name == self.channel:
                            streaming.set()
                elif cmd == "PONG":
                    self.pongs += 1
            raise ConnectionResetError

        read_task = asyncio.create_task(reader())
        try:
            await asyncio.wait(
                {read_task, asyncio.create_task(streaming.wait())},
                return_when=asyncio.FIRST_COMPLETED,
            )
            if read_task.done():
                return
            since_ping = 0
            while self.cursor < len(self.lines):
                if read_task.done():
                    return
                start = self.cursor
                stop = min(len(self.lines), start + self.chunk)
                for mark in sorted(self.drop_at | self.reconnect_at):
                    if start < mark <= stop:
                        stop = mark
                        break
                if stop > start:
                    await send(list(self.lines[start:stop]))
                    self.cursor = stop
                    since_ping += stop - start
                if self.cursor in self.drop_at:
                    self.drop_at.discard(self.cursor)
                    self.cursor = max(0, self.cursor - self.resume_overlap)
                    return  # hang up without a word
                if self.cursor in self.reconnect_at:
                    self.reconnect_at.discard(self.cursor)
                    await send([":tmi.twitch.tv RECONNECT"])
                    return
                if self.ping_every and since_ping >= self.ping_every:
                    since_ping = 0
                    self.pings_sent += 1
                    await send(["PING :tmi.twitch.tv"])
                await asyncio.sleep(self.tick)
            self.finished.set()
            await read_task  # idle until the client leaves
        finally:
            read_task.cancel()
            await asyncio.gather(read_task, return_exceptions=True)
