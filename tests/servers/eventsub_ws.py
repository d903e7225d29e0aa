"""A loopback EventSub WebSocket server (websockets.serve on 127.0.0.1).

Sends `session_welcome`, then the given notifications with keepalives in between; can send
`session_reconnect` (to `/ws?reconnect=<session>`, which keeps the session and its
subscriptions), go silent to trip the client's keepalive timeout, and redeliver a notification.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def envelope(kind: str, payload: dict[str, Any], **meta: str) -> str:
    metadata = {
        "message_id": str(uuid.uuid4()),
        "message_type": kind,
        "message_timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        **meta,
    }
    return json.dumps({"metadata": metadata, "payload": payload})


@dataclass
class EventSubServer:
    notifications: list[dict[str, Any]]
    keepalive_seconds: int = 1
    reconnect_after: int | None = None
    silent_after: int | None = None
    redeliver: int | None = None  # index of a notification sent twice
    tick: float = 0.01
    cursor: int = 0
    sessions: list[str] = field(default_factory=list)
    connections: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> EventSubServer:
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _welcome(self, session_id: str) -> str:
        return envelope(
            "session_welcome",
            {
                "session": {
                    "id": session_id,
                    "status": "connected",
                    "connected_at": "2024-05-14T12:00:00Z",
                    "keepalive_timeout_seconds": self.keepalive_seconds,
                    "reconnect_url": None,
                }
            },
        )

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        path = ws.request.path if ws.request else ""
        session_id = path.split("reconnect=", 1)[1] if "reconnect=" in path else uuid.uuid4().hex
        self.sessions.append(session_id)
        try:
            await ws.send(self._welcome(session_id))
            while self.cursor < len(self.notifications):
                i = self.cursor
                if i == self.silent_after:
                    self.silent_after = None
                    await ws.wait_closed()  # no keepalive: the client must give up on us
                    return
                if i == self.reconnect_after:
                    self.reconnect_after = None
                    url = f"ws://127.0.0.1:{self.port}/ws?reconnect={session_id}"
                    await ws.send(
                        envelope(
                            "session_reconnect",
                            {
                                "session": {
                                    "id": session_id,
                                    "status": "reconnecting",
                                    "keepalive_timeout_seconds": None,
                                    "reconnect_url": url,
                                    "connected_at": "2024-05-14T12:00:00Z",
                                }
                            },
                        )
                    )
                    await ws.wait_closed()  # the client closes us once the new one welcomed it
                    return
                await ws.send(json.dumps(self.notifications[i]))
                if i == self.redeliver:
                    self.redeliver = None
                    await ws.send(json.dumps(self.notifications[i]))
                self.cursor += 1
                await asyncio.sleep(self.tick)
            self.done.set()
            while True:
                await asyncio.sleep(self.keepalive_seconds / 2)
                await ws.send(envelope("session_keepalive", {}))
        except ConnectionClosed:
            pass
