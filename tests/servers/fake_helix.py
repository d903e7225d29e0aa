"""A fake Twitch auth + Helix API on a pytest-httpserver (127.0.0.1), with real emote payloads.

Tokens expire after `token_lifetime` seconds (or at once via `revoke_all`), a rate-limit bucket
is reported in `Ratelimit-*` headers, and `faults` queues 429/500 answers for the next requests.

Users get a stable id per login (`user_id`); `unknown_logins` are left out of answers like Helix
leaves out logins it does not know, and `overrides` patches the user and channel objects of a
login (to show a renamed display name or a new title on the next fetch). Videos page by cursor
(`page_size_cap` per page, `videos` per user unless `videos_by_user` says otherwise).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import zlib
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
    reset_offset: float = 0.0  # added to `Ratelimit-Reset`: negative puts it in the client's past
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (unix)
    refresh_tokens: set[str] = field(default_factory=set)
    token_requests: list[str] = field(default_factory=list)  # grant types
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, path, status)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    empty_bucket_once: bool = False
    unknown_logins: set[str] = field(default_factory=set)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # login -> fields
    videos_by_user: dict[str, int] = field(default_factory=dict)  # user id -> video count
    logins_by_id: dict[str, str] = field(default_factory=dict)  # every user id handed out

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server.expect_request("/oauth2/token", method="POST").respond_with_handler(self._token)
        self.server.expect_request(
            "/helix/eventsub/subscriptions", method="POST"
        ).respond_with_handler(self._helix(self._subscribe))
        for path, handler in {
            "/helix/users": self._users,
            "/helix/channels": self._channels,
            "/helix/streams": self._streams,
            "/helix/videos": self._videos,
            "/helix/chat/emotes/global": self._file(
                "emote-catalogs/helix-bttv-7tv-2023/twitch_global.json"
            ),
            "/helix/chat/emotes": self._file("emote-catalogs/helix-bttv-7tv-2023/t3neppa.json"),
            "/helix/chat/badges/global": self._global_badges,
            "/helix/chat/badges": self._channel_badges,
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
                reset = math.ceil(time.time() + self.reset_offset) + 1
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

    def user_id(self, login: str) -> str:
        """The stable id of a login (the same on every request, like Twitch's)."""
        user_id = str(1000 + zlib.crc32(login.lower().encode()) % 9_000_000)
        self.logins_by_id[user_id] = login.lower()
        return user_id

    def user(self, login: str) -> dict[str, Any]:
        login = login.lower()
        user_id = self.user_id(login)
        number = int(user_id)
        user = {
            "id": user_id,
            "login": login,
            "display_name": login.title(),
            "type": "",
            "broadcaster_type": ["partner", "affiliate", ""][number % 3],
            "description": f"{login} streams here.",
            "profile_image_url": f"https://static-cdn.jtvnw.net/jtv_user_pictures/{login}.png",
            "offline_image_url": "",
            "view_count": 0,
            "created_at": f"{2010 + number % 12}-0{1 + number % 9}-1{number % 10}T08:00:00Z",
        }
        return user | self.overrides.get(login, {}).get("user", {})

    def channel(self, user_id: str) -> dict[str, Any]:
        login = self.logins_by_id[user_id]
        user = self.user(login)
        channel = {
            "broadcaster_id": user_id,
            "broadcaster_login": login,
            "broadcaster_name": user["display_name"],
            "broadcaster_language": "en",
            "game_id": "27471",
            "game_name": "Minecraft",
            "title": f"{login} plays blocks",
            "delay": 0,
            "tags": ["English", "Speedrun"],
            "content_classification_labels": [],
            "is_branded_content": False,
        }
        return channel | self.overrides.get(login, {}).get("channel", {})

    def _users(self, request: Request) -> Response:
        logins = request.args.getlist("login")
        ids = request.args.getlist("id")
        if len(logins) + len(ids) > 100:
            return _json({"status": 400, "message": "too many logins or ids"}, 400)
        known = [x for x in logins if x.lower() not in self.unknown_logins]
        known += [self.logins_by_id[x] for x in ids if x in self.logins_by_id]
        return _json({"data": [self.user(login) for login in dict.fromkeys(known)]})

    def _channels(self, request: Request) -> Response:
        ids = request.args.getlist("broadcaster_id")
        if not ids:
            return _json({"status": 400, "message": "Missing required parameter"}, 400)
        if len(ids) > 100:
            return _json({"status": 400, "message": "too many broadcaster ids"}, 400)
        known = [x for x in dict.fromkeys(ids) if x in self.logins_by_id]
        return _json({"data": [self.channel(x) for x in known]})

    def _streams(self, request: Request) -> Response:
        logins = request.args.getlist("user_login")
        return _json(
            {
                "data": [
                    {
                        "id": "s1",
                        "user_id": self.user_id(login),
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

    def video(self, user_id: str, i: int) -> dict[str, Any]:
        """Video `i` of a user (0 is the newest): an archive of stream `s<user>-<i>`."""
        login = self.logins_by_id.get(user_id, f"user{user_id}")
        hours, minutes, seconds = i % 4, (i * 7) % 60, (i * 13) % 60
        duration = "".join(
            f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n
        )
        day = 28 - i % 28
        created = f"2024-05-{day:02d}T{10 + i % 10:02d}:00:00Z"
        video_id = str(int(user_id) * 1000 + i) if user_id.isdigit() else f"{user_id}-{i}"
        return {
            "id": video_id,
            "stream_id": f"s{user_id}-{i}",
            "user_id": user_id,
            "user_login": login,
            "user_name": login.title(),
            "title": f"{login} stream #{i}",
            "description": "",
            "created_at": created,
            "published_at": created,
            "url": f"https://www.twitch.tv/videos/{video_id}",
            "thumbnail_url": "",
            "viewable": "public",
            "view_count": 100 * i + 7,
            "language": "en",
            "type": "archive",
            "duration": duration or "0s",
            "muted_segments": None,
        }

    def _videos(self, request: Request) -> Response:
        user_id = request.args.get("user_id", "")
        if request.args.get("type", "all") not in ("all", "archive"):
            return _json({"data": [], "pagination": {}})  # every fake video is an archive
        total = self.videos_by_user.get(user_id, self.videos)
        first = min(int(request.args.get("first", "20")), self.page_size_cap)
        start = int(request.args.get("after", "0") or 0)
        items = [self.video(user_id, i) for i in range(start, min(start + first, total))]
        nxt = start + first
        return _json({"data": items, "pagination": {"cursor": str(nxt)} if nxt < total else {}})

    def _global_badges(self, request: Request) -> Response:
        """The real badge list: keys are a set id, or a set id and a number (`60-seconds_2`)."""
        raw = json.loads(
            (self.data_dir / "irc-eventsub-vectors/resources/twitch-badges.json").read_text()
        )
        sets: dict[str, dict[str, dict[str, Any]]] = {}
        for key, versions in raw.items():
            head, _, tail = key.rpartition("_")
            set_id = head if head and tail.isdigit() else key
            for version in versions:
                sets.setdefault(set_id, {}).setdefault(version["id"], _badge(version))
        return _json(
            {"data": [{"set_id": k, "versions": list(v.values())} for k, v in sets.items()]}
        )

    def _channel_badges(self, request: Request) -> Response:
        broadcaster_id = request.args.get("broadcaster_id")
        if not broadcaster_id:
            return _json({"status": 400, "message": "Missing required parameter"}, 400)
        if broadcaster_id not in self.logins_by_id:
            return _json({"data": []})
        image = f"https://static-cdn.jtvnw.net/badges/v1/{broadcaster_id}-"
        subscriber = [
            _badge({"id": months, "title": f"{months}-Month Subscriber", "image": image + months})
            for months in ("0", "3", "6", "12")
        ]
        bits = [
            _badge({"id": amount, "title": f"cheer {amount}", "image": image + "b" + amount})
            for amount in ("1", "100")
        ]
        sets = [
            {"set_id": "subscriber", "versions": subscriber},
            {"set_id": "bits", "versions": bits},
        ]
        login = self.logins_by_id[broadcaster_id]
        return _json({"data": self.overrides.get(login, {}).get("badges", sets)})

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


def _badge(version: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": version["id"],
        "title": version["title"],
        "description": version["title"],
        "image_url_1x": version["image"] + "1",
        "image_url_2x": version["image"] + "2",
        "image_url_4x": version["image"] + "3",
        "click_action": "visit_url" if version.get("url") else None,
        "click_url": version.get("url"),
    }


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
