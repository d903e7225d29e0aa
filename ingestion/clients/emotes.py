"""Emote catalogs of Twitch (Helix), BTTV, FFZ and 7TV, normalised into `CatalogEmote`s.

Third-party emotes are not marked in chat: they are whitespace-separated tokens matched exactly
against the channel's and the global sets valid at the time, so catalogs are kept as dated
snapshots (`EmoteSnapshot`). The `parse_*` functions are pure (payload in, emotes out); the
`EmoteCatalogClient` only fetches.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx

Scope = Literal["global", "channel"]

BTTV_BASE = "https://api.betterttv.net"
FFZ_BASE = "https://api.frankerfacez.com"
SEVENTV_BASE = "https://7tv.io"


@dataclass(frozen=True, slots=True)
class CatalogEmote:
    provider: str  # twitch, bttv, ffz, 7tv
    scope: Scope
    channel: str | None  # login for channel emotes
    emote_id: str
    code: str  # the exact, case-sensitive token
    animated: bool | None = None
    owner: str | None = None
    zero_width: bool = False
    image_url: str | None = None
    emote_type: str | None = None  # twitch: subscriptions, follower, bitstier, globals, ...


@dataclass(slots=True)
class EmoteSnapshot:
    snapshot_date: date
    provider: str
    scope: Scope
    channel: str | None
    emotes: list[CatalogEmote] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready row for a raw table."""
        return {
            "snapshot_date": self.snapshot_date.isoformat(),
            "provider": self.provider,
            "scope": self.scope,
            "channel": self.channel,
            "emotes": [asdict(e) for e in self.emotes],
        }


def _channel(scope: Scope, channel: str | None) -> str | None:
    if scope == "channel" and not channel:
        raise ValueError("channel emotes need the channel login")
    return channel.lower() if scope == "channel" and channel else None


# -- Twitch (Helix) ------------------------------------------------------------------------------
def parse_helix_emotes(
    payload: dict[str, Any], scope: Scope = "global", channel: str | None = None
) -> list[CatalogEmote]:
    """`GET /chat/emotes/global` or `/chat/emotes?broadcaster_id=` response."""
    login = _channel(scope, channel)
    out = []
    for item in payload.get("data") or []:
        images = item.get("images") or {}
        out.append(
            CatalogEmote(
                "twitch",
                scope,
                login,
                str(item["id"]),
                item["name"],
                animated="animated" in (item.get("format") or []),
                image_url=images.get("url_1x"),
                emote_type=item.get("emote_type"),
            )
        )
    return out


# -- BetterTTV -----------------------------------------------------------------------------------
def _bttv(
    item: dict[str, Any], scope: Scope, login: str | None, owner: str | None = None
) -> CatalogEmote:
    user = item.get("user") or {}
    return CatalogEmote(
        "bttv",
        scope,
        login,
        str(item["id"]),
        item["code"],
        animated=item.get("animated", item.get("imageType") == "gif"),
        owner=owner or user.get("name"),
        zero_width=bool(item.get("modifier")),
        image_url=f"https://cdn.betterttv.net/emote/{item['id']}/1x",
    )


def parse_bttv_global(payload: list[dict[str, Any]]) -> list[CatalogEmote]:
    """v3 `/3/cached/emotes/global`: a plain list."""
    return [_bttv(item, "global", None) for item in payload]


def parse_bttv_user(payload: dict[str, Any], channel: str) -> list[CatalogEmote]:
    """v3 `/3/cached/users/twitch/{id}`: the channel's own and its shared emotes."""
    login = _channel("channel", channel)
    own = [
        _bttv(item, "channel", login, owner=login) for item in payload.get("channelEmotes") or []
    ]
    return own + [_bttv(item, "channel", login) for item in payload.get("sharedEmotes") or []]


def parse_bttv_v2_channel(payload: dict[str, Any], channel: str) -> list[CatalogEmote]:
    """Legacy v2 `/2/channels/{login}`: `{urlTemplate, bots, emotes[{id, channel, code}]}`."""
    login = _channel("channel", channel)
    return [
        _bttv({**item, "user": {"name": item.get("channel")}}, "channel", login)
        for item in payload.get("emotes") or []
    ]


# -- FrankerFaceZ --------------------------------------------------------------------------------
def _ffz_set(
    emoticons: list[dict[str, Any]], scope: Scope, login: str | None
) -> list[CatalogEmote]:
    out = []
    for item in emoticons:
        urls = item.get("urls") or {}
        url = urls.get("1")
        out.append(
            CatalogEmote(
                "ffz",
                scope,
                login,
                str(item["id"]),
                item["name"],
                animated=bool(item.get("animated")),
                owner=(item.get("owner") or {}).get("name"),
                zero_width=bool(item.get("modifier")),
                image_url=f"https:{url}" if url and url.startswith("//") else url,
            )
        )
    return out


def parse_ffz_room(payload: dict[str, Any], channel: str | None = None) -> list[CatalogEmote]:
    """v1 `/v1/room/{login}`: the room's own set (`room.set`) inside `sets`."""
    room = payload.get("room") or {}
    login = _channel("channel", channel or room.get("id"))
    emote_set = (payload.get("sets") or {}).get(str(room.get("set")), {})
    return _ffz_set(emote_set.get("emoticons") or [], "channel", login)


def parse_ffz_sets(
    payload: dict[str, Any], scope: Scope = "global", channel: str | None = None
) -> list[CatalogEmote]:
    """v1 set format: `/v1/set/{id}` (`{set}`) or `/v1/set/global` (`{default_sets, sets}`)."""
    login = _channel(scope, channel)
    if "set" in payload:
        return _ffz_set(payload["set"].get("emoticons") or [], scope, login)
    wanted = {str(s) for s in payload.get("default_sets") or payload.get("sets", {})}
    out: list[CatalogEmote] = []
    for set_id, emote_set in (payload.get("sets") or {}).items():
        if set_id in wanted:
            out += _ffz_set(emote_set.get("emoticons") or [], scope, login)
    return out


# -- 7TV -----------------------------------------------------------------------------------------
def parse_7tv_v3_user(payload: dict[str, Any], channel: str | None = None) -> list[CatalogEmote]:
    """v3 `/v3/users/twitch/{id}` (or a bare emote set `/v3/emote-sets/{id}`)."""
    emote_set = payload.get("emote_set") if "emote_set" in payload else payload
    login = _channel("channel", channel or payload.get("username"))
    out = []
    for item in (emote_set or {}).get("emotes") or []:
        data = item.get("data") or {}
        host = (data.get("host") or {}).get("url")
        out.append(
            CatalogEmote(
                "7tv",
                "channel",
                login,
                str(item["id"]),
                item["name"],  # the set's alias is the code
                animated=data.get("animated"),
                owner=(data.get("owner") or {}).get("username"),
                # zero-width: set-level flag bit 0, or the emote's own flag bit 8
                zero_width=bool(
                    int(item.get("flags") or 0) & 1 or int(data.get("flags") or 0) & 256
                ),
                image_url=f"https:{host}/1x.webp" if host and host.startswith("//") else host,
            )
        )
    return out


def parse_7tv_global_set(payload: dict[str, Any]) -> list[CatalogEmote]:
    """v3 `/v3/emote-sets/global`."""
    return [
        CatalogEmote(
            "7tv",
            "global",
            None,
            e.emote_id,
            e.code,
            e.animated,
            e.owner,
            e.zero_width,
            e.image_url,
        )
        for e in parse_7tv_v3_user(payload, channel="global")
    ]


def parse_7tv_v2_channel(payload: list[dict[str, Any]], channel: str) -> list[CatalogEmote]:
    """Legacy v2 `/v2/users/{login}/emotes`: a list with `visibility_simple` and `urls`."""
    login = _channel("channel", channel)
    out = []
    for item in payload:
        urls = dict(item.get("urls") or [])
        out.append(
            CatalogEmote(
                "7tv",
                "channel",
                login,
                str(item["id"]),
                item["name"],
                animated=(item.get("mime") == "image/gif") or None,
                owner=(item.get("owner") or {}).get("login"),
                zero_width="ZERO_WIDTH" in (item.get("visibility_simple") or []),
                image_url=urls.get("1"),
            )
        )
    return out


# -- dated history -------------------------------------------------------------------------------
def load_bttv_history(path: Path) -> list[EmoteSnapshot]:
    """`{date: {global: [...v3 global...], <channel>: {...v3 user...}}}` to one snapshot per date
    and scope, oldest first."""
    raw = json.loads(Path(path).read_text("utf-8"))
    out: list[EmoteSnapshot] = []
    for day in sorted(raw):
        entry = raw[day]
        when = date.fromisoformat(day)
        for key, payload in entry.items():
            if key == "global":
                out.append(EmoteSnapshot(when, "bttv", "global", None, parse_bttv_global(payload)))
            else:
                out.append(
                    EmoteSnapshot(
                        when, "bttv", "channel", key.lower(), parse_bttv_user(payload, key)
                    )
                )
    return out


# -- fetching ------------------------------------------------------------------------------------
class EmoteCatalogClient:
    """Fetches third-party catalogs (Twitch ones come from `HelixClient`) into snapshots."""

    def __init__(
        self,
        *,
        bttv_base: str = BTTV_BASE,
        ffz_base: str = FFZ_BASE,
        seventv_base: str = SEVENTV_BASE,
        http: httpx.AsyncClient | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.bttv_base, self.ffz_base = bttv_base.rstrip("/"), ffz_base.rstrip("/")
        self.seventv_base = seventv_base.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> EmoteCatalogClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _get(self, url: str) -> Any | None:
        """JSON body; None when the provider does not know the channel (404)."""
        response = await self._http.get(url)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    async def bttv_global(self, on: date) -> EmoteSnapshot:
        payload = await self._get(f"{self.bttv_base}/3/cached/emotes/global") or []
        return EmoteSnapshot(on, "bttv", "global", None, parse_bttv_global(payload))

    async def bttv_channel(self, on: date, channel: str, twitch_id: str) -> EmoteSnapshot:
        payload = await self._get(f"{self.bttv_base}/3/cached/users/twitch/{twitch_id}") or {}
        return EmoteSnapshot(
            on, "bttv", "channel", channel.lower(), parse_bttv_user(payload, channel)
        )

    async def ffz_global(self, on: date) -> EmoteSnapshot:
        payload = await self._get(f"{self.ffz_base}/v1/set/global") or {}
        return EmoteSnapshot(on, "ffz", "global", None, parse_ffz_sets(payload))

    async def ffz_channel(self, on: date, channel: str) -> EmoteSnapshot:
        payload = await self._get(f"{self.ffz_base}/v1/room/{channel.lower()}") or {}
        emotes = parse_ffz_room(payload, channel) if payload else []
        return EmoteSnapshot(on, "ffz", "channel", channel.lower(), emotes)

    async def seventv_global(self, on: date) -> EmoteSnapshot:
        payload = await self._get(f"{self.seventv_base}/v3/emote-sets/global") or {}
        return EmoteSnapshot(on, "7tv", "global", None, parse_7tv_global_set(payload))

    async def seventv_channel(self, on: date, channel: str, twitch_id: str) -> EmoteSnapshot:
        payload = await self._get(f"{self.seventv_base}/v3/users/twitch/{twitch_id}") or {}
        emotes = parse_7tv_v3_user(payload, channel) if payload else []
        return EmoteSnapshot(on, "7tv", "channel", channel.lower(), emotes)

    async def channel_snapshots(
        self, on: date, channel: str, twitch_id: str
    ) -> list[EmoteSnapshot]:
        return [
            await self.bttv_channel(on, channel, twitch_id),
            await self.ffz_channel(on, channel),
            await self.seventv_channel(on, channel, twitch_id),
        ]

    async def global_snapshots(self, on: date) -> list[EmoteSnapshot]:
        return [
            await self.bttv_global(on),
            await self.ffz_global(on),
            await self.seventv_global(on),
        ]


def twitch_snapshot(
    on: date, payload: dict[str, Any], scope: Scope = "global", channel: str | None = None
) -> EmoteSnapshot:
    """Wrap a Helix emotes response (from `HelixClient`) as a snapshot."""
    return EmoteSnapshot(
        on, "twitch", scope, _channel(scope, channel), parse_helix_emotes(payload, scope, channel)
    )
