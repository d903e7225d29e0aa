"""Async Twitch Helix client: OAuth tokens, rate limits, retries and cursor pagination.

Tokens are held as `SecretStr` and sent only in the Authorization header; errors and log events
name the endpoint and the HTTP status, never a token or the client secret.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from twitch_warehouse.logging import get_logger

log = get_logger(__name__)

HELIX_BASE = "https://api.twitch.tv/helix"
AUTH_BASE = "https://id.twitch.tv"


class TwitchAuthError(RuntimeError):
    """A token could not be obtained or refreshed."""


class HelixError(RuntimeError):
    """A Helix request failed for good; the message names the endpoint and status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:200]}" if message else ""


class TokenManager:
    """App tokens (client credentials) or user tokens (refresh_token grant), renewed early.

    A token is renewed once less than `refresh_margin` seconds (at most half its lifetime)
    remain, and whenever Helix answers 401 (`invalidate`).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: SecretStr,
        *,
        refresh_token: SecretStr | None = None,
        access_token: SecretStr | None = None,
        auth_base: str = AUTH_BASE,
        http: httpx.AsyncClient | None = None,
        refresh_margin: float = 300.0,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self._refresh_token = refresh_token
        self._token = access_token
        self._expires_at = float("inf") if access_token else 0.0
        self._refresh_at = self._expires_at
        self.auth_base = auth_base.rstrip("/")
        self._http = http
        self.refresh_margin = refresh_margin
        self._lock = asyncio.Lock()
        self.refreshes = 0

    @classmethod
    def from_credentials(
        cls, client_id: str | None, client_secret: SecretStr | str | None, **kwargs: Any
    ) -> TokenManager:
        """Tokens for an app's credentials; TwitchAuthError when either is missing."""
        if not client_id or not client_secret:
            raise TwitchAuthError("TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET must be set")
        secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        return cls(client_id, secret, **kwargs)

    @classmethod
    def from_settings(cls, **kwargs: Any) -> TokenManager:
        from twitch_warehouse.settings import get_settings

        settings = get_settings()
        return cls.from_credentials(
            settings.twitch_client_id, settings.twitch_client_secret, **kwargs
        )

    @property
    def refresh_token(self) -> SecretStr | None:
        return self._refresh_token

    def invalidate(self) -> None:
        self._refresh_at = 0.0

    async def token(self) -> SecretStr:
        if self._token is not None and time.monotonic() < self._refresh_at:
            return self._token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                await self._fetch()
        assert self._token is not None
        return self._token

    async def _fetch(self) -> None:
        data = {"client_id": self.client_id, "client_secret": self._secret.get_secret_value()}
        if self._refresh_token is not None:
            data |= {
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token.get_secret_value(),
            }
        else:
            data["grant_type"] = "client_credentials"
        url = f"{self.auth_base}/oauth2/token"
        http = self._http or httpx.AsyncClient(timeout=10.0)
        try:
            response = await http.post(url, data=data)
        except httpx.HTTPError as exc:
            raise TwitchAuthError(f"token request to {url} failed: {type(exc).__name__}") from None
        finally:
            if self._http is None:
                await http.aclose()
        if response.status_code != 200:
            raise TwitchAuthError(
                f"token request to {url} failed: HTTP {response.status_code}"
                f"{_error_message(response)}"
            )
        body = response.json()
        self._token = SecretStr(body["access_token"])
        if body.get("refresh_token"):
            self._refresh_token = SecretStr(body["refresh_token"])  # Twitch may rotate it
        lifetime = float(body.get("expires_in") or 3600)
        now = time.monotonic()
        self._expires_at = now + lifetime
        self._refresh_at = now + lifetime - min(self.refresh_margin, lifetime / 2)
        self.refreshes += 1
        log.info("helix.token_refreshed", grant=data["grant_type"], expires_in=lifetime)


class HelixClient:
    def __init__(
        self,
        tokens: TokenManager,
        *,
        base_url: str = HELIX_BASE,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 5,
        retry_budget: float = 60.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_rate_limit_waits: int = 10,
        timeout: float = 10.0,
    ) -> None:
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None
        self.max_attempts = max_attempts
        self.retry_budget = retry_budget
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_rate_limit_waits = max_rate_limit_waits
        self._remaining: int | None = None
        self._reset: float | None = None  # unix seconds

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> HelixClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _note_rate_limit(self, response: httpx.Response) -> None:
        remaining = response.headers.get("Ratelimit-Remaining")
        reset = response.headers.get("Ratelimit-Reset")
        if remaining is not None and remaining.isdigit():
            self._remaining = int(remaining)
        if reset is not None and reset.isdigit():
            self._reset = float(reset)

    async def _wait_for_reset(self, fallback: float) -> None:
        """Sleep until the bucket's reset; `fallback` when there is none or it has already passed
        by this clock (a clock ahead of Twitch's, a stale header), never a zero wait that would
        spend the next request on another 429."""
        until_reset = None if self._reset is None else self._reset - time.time()
        delay = until_reset if until_reset is not None and until_reset > 0 else fallback
        log.info("helix.rate_limited", sleep=round(delay, 2))
        await asyncio.sleep(min(delay, 120.0))
        self._remaining = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | dict[str, str] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        endpoint = f"{method} {path}"
        query = params if isinstance(params, dict) else tuple(params or ())
        started = time.monotonic()
        attempt = rate_waits = 0
        reauthed = False
        last = ""
        while True:
            if self._remaining == 0 and self._reset is not None and self._reset > time.time():
                await self._wait_for_reset(1.0)  # bucket empty: don't spend a request on a 429
            token = await self.tokens.token()
            headers = {
                "Client-Id": self.tokens.client_id,
                "Authorization": f"Bearer {token.get_secret_value()}",
            }
            try:
                response = await self._http.request(
                    method, self.base_url + path, params=query, json=json, headers=headers
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                response, last = None, type(exc).__name__
            if response is not None:
                self._note_rate_limit(response)
                status = response.status_code
                if status < 300:
                    return response.json() if response.content else {}
                if status == 401 and not reauthed:
                    reauthed = True  # expired or revoked: one fresh token, one retry
                    self.tokens.invalidate()
                    continue
                if status == 429:
                    rate_waits += 1
                    if rate_waits > self.max_rate_limit_waits:
                        raise HelixError(
                            f"{endpoint} still rate limited after {rate_waits - 1} waits",
                            status=429,
                        )
                    backoff = min(self.backoff_cap, self.backoff_base * 2**rate_waits)
                    await self._wait_for_reset(random.uniform(0.5, 1.0) * backoff)
                    continue
                if status < 500:
                    raise HelixError(
                        f"{endpoint} failed: HTTP {status}{_error_message(response)}", status=status
                    )
                last = f"HTTP {status}"
            attempt += 1
            delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
            if (
                attempt >= self.max_attempts
                or time.monotonic() - started + delay > self.retry_budget
            ):
                raise HelixError(
                    f"{endpoint} failed after {attempt} attempts: {last}",
                    status=response.status_code if response is not None else None,
                )
            log.warning("helix.retry", endpoint=endpoint, reason=last, attempt=attempt)
            await asyncio.sleep(delay)

    async def paginate(
        self, path: str, params: list[tuple[str, str]] | None = None, *, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Follow `pagination.cursor` until it runs out (or `limit` items came back)."""
        params = list(params or [])
        cursor: str | None = None
        count = 0
        while True:
            page_params = params + ([("after", cursor)] if cursor else [])
            body = await self.request("GET", path, params=page_params)
            data = body.get("data") or []
            for item in data:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            cursor = (body.get("pagination") or {}).get("cursor")
            if not cursor or not data:
                return

    async def _collect(
        self, path: str, params: list[tuple[str, str]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        return [item async for item in self.paginate(path, params, limit=limit)]

    # -- endpoints ---------------------------------------------------------------------------
    async def users(self, logins: Sequence[str] = (), ids: Sequence[str] = ()) -> list[dict]:
        """GET /users, 100 logins/ids per request (the Helix maximum)."""
        keys = [("login", x.lower()) for x in logins] + [("id", x) for x in ids]
        out: list[dict] = []
        for i in range(0, len(keys), 100):
            out += (await self.request("GET", "/users", params=keys[i : i + 100])).get("data", [])
        return out

    async def streams(
        self, user_logins: Sequence[str] = (), user_ids: Sequence[str] = ()
    ) -> list[dict]:
        """GET /streams: live streams with title, game_name, started_at."""
        keys = [("user_login", x.lower()) for x in user_logins] + [("user_id", x) for x in user_ids]
        out: list[dict] = []
        for i in range(0, len(keys), 100):
            out += await self._collect("/streams", [*keys[i : i + 100], ("first", "100")])
        return out

    async def channel_information(self, broadcaster_ids: Sequence[str]) -> list[dict]:
        """GET /channels: game, title, language and tags, 100 broadcaster ids per request."""
        ids = list(dict.fromkeys(broadcaster_ids))
        out: list[dict] = []
        for i in range(0, len(ids), 100):
            params = [("broadcaster_id", x) for x in ids[i : i + 100]]
            out += (await self.request("GET", "/channels", params=params)).get("data", [])
        return out

    async def videos(
        self, user_id: str, *, video_type: str = "archive", limit: int | None = None
    ) -> list[dict]:
        """GET /videos of one user, newest first, following the cursor (`limit` caps the total).

        `video_type` is archive (past broadcasts), highlight, upload or all.
        """
        first = str(min(100, limit or 100))
        params = [("user_id", user_id), ("type", video_type), ("first", first)]
        return await self._collect("/videos", params, limit)

    async def global_emotes(self) -> dict[str, Any]:
        """The whole response (data + template), as `emotes.parse_helix_emotes` expects."""
        return await self.request("GET", "/chat/emotes/global")

    async def channel_emotes(self, broadcaster_id: str) -> dict[str, Any]:
        return await self.request("GET", "/chat/emotes", params={"broadcaster_id": broadcaster_id})

    async def global_badges(self) -> list[dict]:
        return (await self.request("GET", "/chat/badges/global")).get("data", [])

    async def channel_badges(self, broadcaster_id: str) -> list[dict]:
        body = await self.request("GET", "/chat/badges", params={"broadcaster_id": broadcaster_id})
        return body.get("data", [])

    async def create_eventsub_subscription(
        self, sub_type: str, version: str, condition: dict[str, str], session_id: str
    ) -> dict[str, Any]:
        body = {
            "type": sub_type,
            "version": version,
            "condition": condition,
            "transport": {"method": "websocket", "session_id": session_id},
        }
        return await self.request("POST", "/eventsub/subscriptions", json=body)
