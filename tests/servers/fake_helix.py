"""A fake Twitch auth + Helix API on a pytest-httpserver (127.0.0.1), with real emote payloads.

Tokens expire after `token_lifetime` seconds (or at once via `revoke_all`), a rate-limit bucket
is reported in `Ratelimit-*` headers, and `faults` queues 429/500 answers for the next requests.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret-XYZ"


@dataclass
class FakeHelix:
    server: HTTPServer
    data_dir: Path
    token_lifetime: int = 3600
    bucket: int = 800
    page_size_cap: int = 10
    videos: int = 25
    faults: list[int] = field(default_factory=list)  # statuses to answer next, in order
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (unix)
    refresh_tokens: set[str] = field(default_factory=set)
    token_requests: list[str] = field(default_factory=list)  # grant types
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, path, status)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    empty_bucket_once: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server.expect_request("/oauth2/token", method="POST").respond_with_handler(self._token)
        self.server.expect_request(
            "/helix/eventsub/subscriptions", method="POST"
        ).respond_with_handler(self._helix(self._subscribe))
        for path, handler in {
            "/helix/users": self._users,
            "/helix/streams": self._streams,
            "/helix/videos": self._videos,
            "/helix/chat/emotes/global": self._file(
                "emote-catalogs/helix-bttv-7tv-2023/twitch_global.json"
            ),
            "/helix/chat/emotes": self._file("emote-catalogs/helix-bttv-7tv-2023/t3neppa.json"),
            "/helix/chat/badges/global": self._badges,
            "/helix/chat/badges": self._badges,
        }.items():
            self.server.expect_request(path, method="GET").respond_with_handler(
                self._helix(handler)
            )

    @property
    def auth_base(self) -> str:
        return self.server.url_for("").rstrip("/")

    @property
    def helix_base(self) -> str:
        return self.server.url_for("/helix")

    def new_refresh_token(self) -> str:
        token = "r-" + secrets.token_hex(8)
        self.refresh_tokens.add(token)
        return token

    def revoke_all(self) -> None:
        self.tokens.clear()

    # auth ----------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _json({"status": 403, "message": "invalid client secret"}, 403)
        body: dict[str, Any] = {"expires_in": self.token_lifetime, "token_type": "bearer"}
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.refresh_tokens:
                return _json({"status": 400, "message": "Invalid refresh token"}, 400)
            self.refresh_tokens.discard(old)
            body["refresh_token"] = self.new_refresh_token()  # rotated, like Twitch
        elif grant != "client_credentials":
            return _json({"status": 400, "message": "unsupported grant"}, 400)
        token = "t-" + secrets.token_hex(12)
        self.tokens[token] = time.time() + self.token_lifetime
        body["access_token"] = token
        return _json(body)

    # helix ---------------------------------------------------------------------------------
    def _helix(self, handler):
        def wrapped(request: Request) -> Response:
            with self._lock:
                response = self._gate(request) or handler(request)
                reset = math.ceil(time.time()) + 1
                remaining = self.bucket
                if self.empty_bucket_once and response.status_code == 200:
                    self.empty_bucket_once = False
                    remaining = 0
                response.headers["Ratelimit-Limit"] = "800"
                response.headers.setdefault("Ratelimit-Remaining", str(remaining))
                response.headers.setdefault("Ratelimit-Reset", str(reset))
                self.requests.append((time.time(), request.path, str(response.status_code)))
                return response

        return wrapped

    def _gate(self, request: Request) -> Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if request.headers.get("Client-Id") != CLIENT_ID:
            return _json({"status": 401, "message": "Client ID and OAuth token do not match"}, 401)
        if token not in self.tokens or self.tokens[token] < time.time():
            return _json({"status": 401, "message": "Invalid OAuth token"}, 401)
        if self.faults:
            status = self.faults.pop(0)
            response = _json({"status": status, "message": "injected"}, status)
            if status == 429:
                response.headers["Ratelimit-Remaining"] = "0"
            return response
        return None

    def _file(self, relative: str):
        payload = (self.data_dir / relative).read_bytes()
        return lambda request: Response(payload, 200, content_type="application/json")

    def _users(self, request: Request) -> Response:
        logins = request.args.getlist("login")
        return _json(
            {
                "data": [
                    {"id": str(1000 + i), "login": login, "display_name": login.title()}
                    for i, login in enumerate(logins)
                ]
            }
        )

    def _streams(self, request: Request) -> Response:
        logins = request.args.getlist("user_login")
        return _json(
            {
                "data": [
                    {
                        "id": "s1",
                        "user_login": login,
                        "title": "speedrun",
                        "game_name": "Minecraft",
                        "started_at": "2024-05-14T12:00:00Z",
                    }
                    for login in logins
                ],
                "pagination": {},
            }
        )

    def _videos(self, request: Request) -> Response:
        first = min(int(request.args.get("first", "20")), self.page_size_cap)
        start = int(request.args.get("after", "0") or 0)
        items = [
            {"id": f"v{i}", "user_id": request.args.get("user_id"), "type": "archive"}
            for i in range(start, min(start + first, self.videos))
        ]
        nxt = start + first
        return _json(
            {"data": items, "pagination": {"cursor": str(nxt)} if nxt < self.videos else {}}
        )

    def _badges(self, request: Request) -> Response:
        raw = json.loads(
            (self.data_dir / "irc-eventsub-vectors/resources/twitch-badges.json").read_text()
        )
        sets: dict[str, list[dict[str, str]]] = {}
        for key, versions in raw.items():
            set_id, _, _ = key.rpartition("_")
            for version in versions:
                sets.setdefault(set_id, []).append(
                    {
                        "id": version["id"],
                        "title": version["title"],
                        "image_url_1x": version["image"] + "1",
                    }
                )
        return _json({"data": [{"set_id": k, "versions": v} for k, v in sets.items()]})

    def _subscribe(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.subscriptions.append(body)
        return _json(
            {
                "data": [{"id": f"sub{len(self.subscriptions)}", "status": "enabled", **body}],
                "total": len(self.subscriptions),
            },
            202,
        )


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
