"""EventSub over WebSocket: chat and moderation notifications into `eventsub` landing files,
and their mapping into the chat event model.

Each notification is landed as one compact JSON line (the whole message: metadata + payload) in
`<landing>/eventsub/<channel>/<date>/<HH>.jsonl`, keyed by `metadata.message_timestamp`;
redeliveries are dropped by `metadata.message_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.clients.justlog import parse_timestamp
from ingestion.clients.landing_sink import LandingSink, LandingWriteError, eventsub_dedup_key
from ingestion.events import (
    ChatEvent,
    EmoteOccurrence,
    EventType,
    Reject,
    synthetic_event_id,
)
from twitch_warehouse.logging import get_logger

log = get_logger(__name__)

SOURCE = "eventsub"
EVENTSUB_URL = "wss://eventsub.wss.twitch.tv/ws"
SUBSCRIPTION_TYPES: tuple[tuple[str, str], ...] = (
    ("channel.chat.message", "1"),
    ("channel.chat.message_delete", "1"),
    ("channel.chat.clear_user_messages", "1"),
    ("channel.chat.clear", "1"),
    ("channel.chat.notification", "1"),
    ("channel.moderate", "2"),
)

Subscribe = Callable[[str, str, dict[str, str], str], Awaitable[Any]]


def subscriptions_for(broadcaster_id: str, user_id: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, version, condition) per subscription; `user_id` is the token's user (a moderator
    of the channel for channel.moderate)."""
    out = []
    for sub_type, version in SUBSCRIPTION_TYPES:
        key = "moderator_user_id" if sub_type == "channel.moderate" else "user_id"
        out.append((sub_type, version, {"broadcaster_user_id": broadcaster_id, key: user_id}))
    return out


@dataclass
class EventSubStats:
    notifications: int = 0
    duplicates: int = 0
    sessions: int = 0
    reconnects: int = 0
    subscriptions: int = 0
    gaps: list[dict[str, str]] = field(default_factory=list)


class EventSubClient:
    def __init__(
        self,
        subscribe: Subscribe,
        broadcaster_ids: Sequence[str],
        user_id: str,
        landing_root: Path,
        *,
        url: str = EVENTSUB_URL,
        keepalive_slack: float = 5.0,
        welcome_timeout: float = 10.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        batch_size: int = 20,
    ) -> None:
        self.subscribe = subscribe  # e.g. HelixClient.create_eventsub_subscription
        self.broadcaster_ids = list(broadcaster_ids)
        self.user_id = user_id
        self.landing_root = landing_root
        self.url = url
        self.keepalive_slack = keepalive_slack
        self.welcome_timeout = welcome_timeout
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sink = LandingSink(landing_root, SOURCE, eventsub_dedup_key, batch_size=batch_size)
        self.stats = EventSubStats()

    async def _connect(self, url: str) -> tuple[Any, dict[str, Any]]:
        from websockets.asyncio.client import connect

        ws = await connect(url, max_size=1 << 22)
        async with asyncio.timeout(self.welcome_timeout):
            welcome = json.loads(await ws.recv())
        if welcome.get("metadata", {}).get("message_type") != "session_welcome":
            await ws.close()
            raise ConnectionError("EventSub did not start with session_welcome")
        self.stats.sessions += 1
        return ws, welcome["payload"]["session"]

    async def _subscribe_all(self, session_id: str) -> None:
        for broadcaster in self.broadcaster_ids:
            for sub_type, version, condition in subscriptions_for(broadcaster, self.user_id):
                await self.subscribe(sub_type, version, condition, session_id)
                self.stats.subscriptions += 1

    def _land(self, text: str, message: dict[str, Any]) -> None:
        event = message.get("payload", {}).get("event") or {}
        channel = (event.get("broadcaster_user_login") or "").lower()
        if not channel:
            log.warning(
                "eventsub.notification_without_channel",
                type=message["metadata"].get("subscription_type"),
            )
            channel = "_unknown"
        hour = parse_timestamp(message["metadata"]["message_timestamp"])
        compact = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        if self.sink.write(channel, hour, compact):
            self.stats.notifications += 1
        else:
            self.stats.duplicates += 1

    def _gap(self, start: datetime, reason: str) -> None:
        gap = {
            "source": SOURCE,
            "start": start.isoformat(),
            "end": datetime.now(UTC).isoformat(),
            "reason": reason,
        }
        self.stats.gaps.append(gap)
        try:
            with open(self.landing_root / "gaps.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(gap) + "\n")
        except OSError as exc:
            raise LandingWriteError(f"cannot write {self.landing_root}/gaps.jsonl: {exc}") from exc

    async def run(
        self, stop_event: asyncio.Event | None = None, max_runtime: float | None = None
    ) -> EventSubStats:
        stop_event = stop_event or asyncio.Event()
        self.sink.check_writable()
        loop = asyncio.get_running_loop()
        timer = loop.call_later(max_runtime, stop_event.set) if max_runtime else None
        attempt = 0
        try:
            while not stop_event.is_set():
                lost_at: datetime | None = None
                reason = ""
                try:
                    await self._session(stop_event)
                except (OSError, TimeoutError, ConnectionError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                except Exception as exc:
                    from websockets.exceptions import ConnectionClosed, InvalidStatus

                    if not isinstance(exc, ConnectionClosed | InvalidStatus):
                        raise
                    reason = f"{type(exc).__name__}: {exc}"
                if stop_event.is_set():
                    break
                lost_at = datetime.now(UTC)
                delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                attempt += 1
                log.warning("eventsub.reconnect", reason=reason, delay=round(delay, 2))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop_event.wait()
                self._gap(lost_at, reason)  # a new session misses what happened meanwhile
        finally:
            if timer is not None:
                timer.cancel()
            self.sink.close()
        return self.stats

    async def _session(self, stop_event: asyncio.Event) -> None:
        ws, session = await self._connect(self.url)
        await self._subscribe_all(session["id"])
        try:
            while not stop_event.is_set():
                keepalive = float(session.get("keepalive_timeout_seconds") or 10)
                stopper = asyncio.ensure_future(stop_event.wait())
                receiver = asyncio.ensure_future(ws.recv())
                try:
                    await asyncio.wait(
                        {stopper, receiver},
                        timeout=keepalive + self.keepalive_slack,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    stopper.cancel()
                if not receiver.done():  # a message that arrived as the wait ended is kept
                    receiver.cancel()
                    if stop_event.is_set():
                        return
                    raise TimeoutError(f"no EventSub message within {keepalive:g}s keepalive")
                text = receiver.result()
                message = json.loads(text)
                kind = message.get("metadata", {}).get("message_type")
                if kind == "notification":
                    self._land(text, message)
                    if self.sink.pending:
                        self.sink.flush()  # low volume: every notification is durable at once
                elif kind == "session_reconnect":
                    # Connect to the new URL first; the old one stays up until its welcome.
                    new_url = message["payload"]["session"]["reconnect_url"]
                    new_ws, session = await self._connect(new_url)
                    await ws.close()
                    ws = new_ws
                    self.stats.reconnects += 1
                elif kind == "revocation":
                    log.warning("eventsub.revoked", subscription=message["payload"]["subscription"])
        finally:
            await ws.close()


async def run_eventsub(
    subscribe: Subscribe,
    broadcaster_ids: Sequence[str],
    user_id: str,
    landing_root: Path,
    *,
    url: str = EVENTSUB_URL,
    stop_event: asyncio.Event | None = None,
    max_runtime: float | None = None,
    **options: Any,
) -> EventSubStats:
    client = EventSubClient(subscribe, broadcaster_ids, user_id, landing_root, url=url, **options)
    return await client.run(stop_event, max_runtime)


# -- mapping into the chat event model -----------------------------------------------------------
# How long a channel.chat.* clear waits for the channel.moderate notification of the same action.
MATCH_WINDOW_S = 10.0
NOTICE_KINDS = {  # EventSub notice_type -> the IRC USERNOTICE msg-id, so both sources agree
    "sub": "sub",
    "resub": "resub",
    "sub_gift": "subgift",
    "community_sub_gift": "submysterygift",
    "gift_paid_upgrade": "giftpaidupgrade",
    "prime_paid_upgrade": "primepaidupgrade",
    "raid": "raid",
    "unraid": "unraid",
    "pay_it_forward": "standardpayforward",
    "announcement": "announcement",
    "bits_badge_tier": "bitsbadgetier",
    "charity_donation": "charitydonation",
}


def _flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            out |= _flatten(value, f"{prefix}{key}.")
    elif obj is not None:
        out[prefix[:-1]] = str(obj).lower() if isinstance(obj, bool) else str(obj)
    return out


def _emotes(fragments: list[dict[str, Any]] | None) -> list[EmoteOccurrence]:
    """Fragment texts concatenate to the message; positions count code points (Python str)."""
    out, pos = [], 0
    for fragment in fragments or []:
        text = fragment.get("text") or ""
        emote = fragment.get("emote")
        if fragment.get("type") == "emote" and emote and text:
            out.append(EmoteOccurrence(str(emote.get("id")), pos, pos + len(text) - 1, text))
        pos += len(text)
    return out


def _badges(badges: list[dict[str, Any]] | None) -> tuple[dict[str, str], dict[str, str]]:
    versions, info = {}, {}
    for badge in badges or []:
        versions[badge["set_id"]] = str(badge.get("id", ""))
        if badge.get("info"):
            info[badge["set_id"]] = str(badge["info"])
    return versions, info


def _base(event: dict[str, Any], sent_at: datetime, raw: str) -> dict[str, Any]:
    channel = (event.get("broadcaster_user_login") or "").lower()
    if not channel:
        raise ValueError("no broadcaster_user_login")
    return {
        "channel": channel,
        "sent_at": sent_at,
        "source": SOURCE,
        "raw": raw,
        "channel_id": event.get("broadcaster_user_id"),
        "source_channel_id": event.get("source_broadcaster_user_id"),
    }


def _message(event: dict[str, Any], base: dict[str, Any]) -> ChatEvent:
    message = event.get("message") or {}
    badges, badge_info = _badges(event.get("badges"))
    params = {}
    if event.get("channel_points_custom_reward_id"):
        params["custom-reward-id"] = event["channel_points_custom_reward_id"]
    if event.get("message_type") and event["message_type"] != "text":
        params["message-type"] = event["message_type"]
    reply = event.get("reply") or {}
    return ChatEvent(
        event_id=event["message_id"],
        event_type=EventType.MESSAGE,
        user_id=event.get("chatter_user_id"),
        user_login=(event.get("chatter_user_login") or None),
        display_name=event.get("chatter_user_name"),
        text=message.get("text", ""),
        emotes=_emotes(message.get("fragments")),
        badges=badges,
        badge_info=badge_info,
        bits=int((event.get("cheer") or {}).get("bits") or 0),
        is_first_message=event.get("message_type") == "user_intro",
        reply_parent_id=reply.get("parent_message_id"),
        params=params,
        **base,
    )


def _notification(event: dict[str, Any], base: dict[str, Any]) -> ChatEvent:
    notice_type = event.get("notice_type") or ""
    kind = notice_type.removeprefix("shared_chat_")
    params = _flatten(event.get(notice_type) or event.get(kind) or {})
    if event.get("system_message"):
        params["system-msg"] = event["system_message"]
    message = event.get("message") or {}
    badges, badge_info = _badges(event.get("badges"))
    return ChatEvent(
        event_id=event["message_id"],
        event_type=EventType.USERNOTICE,
        user_id=event.get("chatter_user_id"),
        user_login=event.get("chatter_user_login") or None,
        display_name=event.get("chatter_user_name"),
        text=message.get("text") or None,
        emotes=_emotes(message.get("fragments")),
        badges=badges,
        badge_info=badge_info,
        notice_kind=NOTICE_KINDS.get(kind, kind),
        params=params,
        **base,
    )


def _moderate(event: dict[str, Any], base: dict[str, Any], sent_at: datetime) -> ChatEvent:
    action = event.get("action") or ""
    kind = action.removeprefix("shared_chat_")
    detail = event.get(action) or {}
    channel = base["channel"]
    params = {"moderator_login": event.get("moderator_user_login") or "", "action": action}
    params |= {k: v for k, v in _flatten(detail).items() if not k.startswith("user_")}
    target_id, target_login = detail.get("user_id"), detail.get("user_login")
    if kind in ("ban", "timeout"):
        duration = None
        if kind == "timeout" and detail.get("expires_at"):
            expires = parse_timestamp(detail["expires_at"])
            duration = max(0, round((expires - sent_at).total_seconds()))
        event_type = EventType.TIMEOUT if kind == "timeout" else EventType.BAN
        return ChatEvent(
            event_id=synthetic_event_id(
                channel, event_type, target_login or "", str(sent_at.timestamp())
            ),
            event_type=event_type,
            target_user_id=target_id,
            target_user_login=target_login,
            duration_seconds=duration,
            params=params,
            **base,
        )
    if kind == "delete":
        return ChatEvent(
            event_id=synthetic_event_id(channel, "delete", detail.get("message_id") or ""),
            event_type=EventType.DELETE,
            target_user_id=target_id,
            target_user_login=target_login,
            target_message_id=detail.get("message_id"),
            text=detail.get("message_body"),
            params=params,
            **base,
        )
    if kind == "clear":
        return ChatEvent(
            event_id=synthetic_event_id(channel, EventType.CLEAR, "", str(sent_at.timestamp())),
            event_type=EventType.CLEAR,
            params=params,
            **base,
        )
    # Room settings, mod/vip changes, warnings, unbans, raids: moderation notices.
    return ChatEvent(
        event_id=synthetic_event_id(
            channel,
            "moderate",
            action,
            json.dumps(detail, sort_keys=True),
            str(sent_at.timestamp()),
        ),
        event_type=EventType.NOTICE,
        notice_kind=action,
        target_user_id=target_id,
        target_user_login=target_login,
        params=params,
        **base,
    )


def parse_eventsub_records(lines: Iterable[bytes]) -> Iterator[ChatEvent | Reject]:
    """Landed EventSub notifications to chat events; unusable records come out as `Reject`s.

    A ban/timeout and a chat clear arrive twice (channel.chat.* and channel.moderate): the
    channel.moderate one (it knows ban vs timeout and the duration) is kept, the chat one only
    when no moderate counterpart arrives within MATCH_WINDOW_S. clear_user_messages alone
    cannot tell a ban from a timeout; it becomes a BAN marked `kind_unknown`.
    """
    pending: list[tuple[datetime, tuple[str, ...], ChatEvent]] = []  # chat-side, awaiting match
    recent: list[tuple[datetime, tuple[str, ...]]] = []  # moderate-side keys
    deleted: set[tuple[str, str]] = set()

    def expire(now: datetime) -> Iterator[ChatEvent]:
        nonlocal pending, recent
        keep = []
        for ts, key, event in pending:
            if (now - ts).total_seconds() > MATCH_WINDOW_S:
                yield event
            else:
                keep.append((ts, key, event))
        pending = keep
        recent = [(ts, key) for ts, key in recent if (now - ts).total_seconds() <= MATCH_WINDOW_S]

    for line_no, line in enumerate(lines, start=1):
        raw_bytes = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
        # Blank like the other parsers see it: str.strip() also drops \x1c-\x1f separators.
        if not raw_bytes.decode("utf-8", "replace").strip():
            continue
        try:
            raw = raw_bytes.decode("utf-8")
            record = json.loads(raw)
            meta = record["metadata"]
            if meta.get("message_type") != "notification":
                raise ValueError(f"not a notification: {meta.get('message_type')}")
            sub_type = meta.get("subscription_type") or record["payload"]["subscription"]["type"]
            event = record["payload"]["event"]
            sent_at = parse_timestamp(meta["message_timestamp"])
            base = _base(event, sent_at, raw)
            yield from expire(sent_at)
            out: ChatEvent | None
            if sub_type == "channel.chat.message":
                out = _message(event, base)
            elif sub_type == "channel.chat.notification":
                out = _notification(event, base)
            elif sub_type == "channel.chat.message_delete" or (
                sub_type == "channel.moderate"
                and (event.get("action") or "").removeprefix("shared_chat_") == "delete"
            ):
                if sub_type == "channel.moderate":
                    out = _moderate(event, base, sent_at)
                else:
                    out = ChatEvent(
                        event_id=synthetic_event_id(base["channel"], "delete", event["message_id"]),
                        event_type=EventType.DELETE,
                        target_user_id=event.get("target_user_id"),
                        target_user_login=event.get("target_user_login"),
                        target_message_id=event["message_id"],
                        **base,
                    )
                key = (base["channel"], out.target_message_id or "")
                out = None if key in deleted else out
                deleted.add(key)
            elif sub_type == "channel.moderate":
                out = _moderate(event, base, sent_at)
                kind = (event.get("action") or "").removeprefix("shared_chat_")
                if kind in ("ban", "timeout", "clear"):
                    key = (
                        (base["channel"], out.target_user_id or "")
                        if kind != "clear"
                        else (base["channel"], "*clear*")
                    )
                    recent.append((sent_at, key))
                    pending = [p for p in pending if p[1] != key]
            elif sub_type in ("channel.chat.clear_user_messages", "channel.chat.clear"):
                if sub_type == "channel.chat.clear":
                    key = (base["channel"], "*clear*")
                    out = ChatEvent(
                        event_id=synthetic_event_id(
                            base["channel"], EventType.CLEAR, "", str(sent_at.timestamp())
                        ),
                        event_type=EventType.CLEAR,
                        **base,
                    )
                else:
                    key = (base["channel"], event.get("target_user_id") or "")
                    out = ChatEvent(
                        event_id=synthetic_event_id(
                            base["channel"],
                            EventType.BAN,
                            event.get("target_user_login") or "",
                            str(sent_at.timestamp()),
                        ),
                        event_type=EventType.BAN,
                        target_user_id=event.get("target_user_id"),
                        target_user_login=event.get("target_user_login"),
                        params={"kind_unknown": "true"},
                        **base,
                    )
                if all(k != key for _, k in recent):
                    pending.append((sent_at, key, out))
                out = None
            else:
                raise ValueError(f"unsupported subscription type {sub_type}")
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            yield Reject(SOURCE, raw_bytes, f"{type(exc).__name__}: {exc}", line_no)
            continue
        if out is not None:
            yield out
    yield from (event for _, _, event in pending)
