"""EventSub: parsing real Chatterino vectors and a WebSocket session against loopback servers."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from ingestion.clients.eventsub import (
    SUBSCRIPTION_TYPES,
    EventSubClient,
    parse_eventsub_records,
)
from ingestion.clients.helix import HelixClient, TokenManager
from ingestion.events import ChatEvent, EventType, Reject
from tests.servers.eventsub_ws import EventSubServer
from tests.servers.fake_helix import CLIENT_ID, CLIENT_SECRET, FakeHelix

T0 = datetime(2024, 5, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def vectors(data_dir: Path) -> Path:
    return data_dir / "irc-eventsub-vectors"


def messages(vectors: Path) -> dict[str, dict[str, Any]]:
    folder = vectors / "lib/twitch-eventsub-ws/tests/resources/messages"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def wrap(sub_type: str, event: dict[str, Any], i: int, version: str = "1") -> dict[str, Any]:
    return {
        "metadata": {
            "message_id": f"m{i}",
            "message_type": "notification",
            "message_timestamp": (T0 + timedelta(seconds=i)).isoformat(),
            "subscription_type": sub_type,
            "subscription_version": version,
        },
        "payload": {"subscription": {"type": sub_type, "version": version}, "event": event},
    }


def parse(records: list[dict[str, Any]]) -> list[ChatEvent | Reject]:
    return list(parse_eventsub_records(json.dumps(r).encode() for r in records))


def test_chat_message_with_emote_fragments_in_code_points(vectors: Path):
    msg = messages(vectors)["channel.chat.message"]
    event = msg["payload"]["event"]
    event["message"] = {
        "text": "👋🏽 Kappa hi Kappa",
        "fragments": [
            {"type": "text", "text": "👋🏽 "},
            {"type": "emote", "text": "Kappa", "emote": {"id": "25"}},
            {"type": "text", "text": " hi "},
            {"type": "emote", "text": "Kappa", "emote": {"id": "25"}},
        ],
    }
    (out,) = parse([msg])
    assert isinstance(out, ChatEvent) and out.event_type == EventType.MESSAGE
    assert out.event_id == "cc106a89-1814-919d-454c-f4f2f970aae7" and out.channel == "streamer"
    assert [(e.start, e.end, e.code) for e in out.emotes] == [(3, 7, "Kappa"), (12, 16, "Kappa")]
    assert all(out.text[e.start : e.end + 1] == "Kappa" for e in out.emotes)  # type: ignore[index]
    assert out.badges["subscriber"] == "12" and out.badge_info == {"subscriber": "16"}
    assert out.source_channel_id == "112233" and out.user_login == "viewer32"


def test_every_real_vector_maps_or_is_rejected_with_a_reason(vectors: Path):
    ndjson = vectors / "lib/twitch-eventsub-ws/benchmarks/resources/messages.ndjson"
    records = [json.loads(line) for line in ndjson.read_text().splitlines() if line.strip()]
    records += list(messages(vectors).values())
    subscribed = {t for t, _ in SUBSCRIPTION_TYPES}
    out = list(parse_eventsub_records(json.dumps(r).encode() for r in records))
    events = [o for o in out if isinstance(o, ChatEvent)]
    rejects = [o for o in out if isinstance(o, Reject)]
    expected_rejects = [
        r
        for r in records
        if r["metadata"]["message_type"] != "notification"
        or r["metadata"]["subscription_type"] not in subscribed
    ]
    assert len(rejects) == len(expected_rejects)
    notices = [e for e in events if e.event_type == EventType.USERNOTICE]
    assert {"resub", "submysterygift", "standardpayforward"} <= {e.notice_kind for e in notices}
    resub = next(e for e in notices if e.event_id == "aaa15585-0f43-4c32-8c48-56d58e9567a7")
    assert resub.params["cumulative_months"] == "58" and resub.text == "GIB MIR DEN POKAL"
    timeout = next(e for e in events if e.event_type == EventType.TIMEOUT)
    assert timeout.target_user_login == "twitchdev" and timeout.duration_seconds is not None


def test_moderate_snapshots(vectors: Path):
    folder = vectors / "tests/snapshots/EventSub/channel-moderate"
    by_name = {}
    for i, path in enumerate(sorted(folder.glob("*.json"))):
        inputs = json.loads(path.read_text())["input"]
        inputs = inputs if isinstance(inputs, list) else [inputs]  # "stacking" files hold several
        out = parse([wrap("channel.moderate", e, 100 * i + j, "2") for j, e in enumerate(inputs)])
        assert len(out) == len(inputs) and all(isinstance(o, ChatEvent) for o in out), path.name
        by_name[path.stem] = out[0]
    assert by_name["ban"].event_type == EventType.BAN
    assert by_name["timeout"].event_type == EventType.TIMEOUT
    assert by_name["clear"].event_type == EventType.CLEAR
    assert by_name["delete"].event_type == EventType.DELETE and by_name["delete"].target_message_id
    shared = by_name["shared-timeout"]
    assert shared.event_type == EventType.TIMEOUT and shared.source_channel_id
    assert by_name["slow"].event_type == EventType.NOTICE and by_name["slow"].notice_kind == "slow"


def test_chat_clears_pair_with_channel_moderate(vectors: Path):
    mod = messages(vectors)["channel.moderate-timeout"]["payload"]["event"]
    target = mod["timeout"]
    room = {
        k: mod[k]
        for k in ("broadcaster_user_id", "broadcaster_user_login", "broadcaster_user_name")
    }
    clear_user = {
        **room,
        "target_user_id": target["user_id"],
        "target_user_login": "twitchdev",
        "target_user_name": "TwitchDev",
    }
    delete = {**clear_user, "message_id": "abc-1"}
    records = [
        wrap("channel.chat.clear_user_messages", clear_user, 0),
        wrap("channel.moderate", mod, 1, "2"),  # same action, richer: wins
        wrap("channel.chat.clear_user_messages", {**clear_user, "target_user_id": "999"}, 2),
        wrap("channel.chat.message_delete", delete, 3),
        wrap(
            "channel.moderate",
            {
                **mod,
                "action": "delete",
                "timeout": None,
                "delete": {**target, "message_id": "abc-1"},
            },
            4,
            "2",
        ),
        wrap("channel.chat.clear", room, 40),
    ]
    out = parse(records)
    kinds = sorted((e.event_type, e.target_user_id or "") for e in out if isinstance(e, ChatEvent))
    assert kinds == sorted(
        [
            (EventType.TIMEOUT, "141981764"),
            (EventType.BAN, "999"),
            (EventType.DELETE, "141981764"),
            (EventType.CLEAR, ""),
        ]
    )
    lone = next(e for e in out if isinstance(e, ChatEvent) and e.target_user_id == "999")
    assert lone.params == {"kind_unknown": "true"}


def test_garbage_is_rejected():
    out = list(parse_eventsub_records([b"{not json", b'{"metadata": {}}']))
    assert all(isinstance(o, Reject) for o in out) and len(out) == 2


def test_a_timestamp_beyond_any_calendar_is_rejected_not_raised(vectors: Path):
    good = messages(vectors)["channel.chat.message"]
    far = json.loads(json.dumps(good))
    far["metadata"]["message_timestamp"] = "1" + "0" * 23
    huge = json.loads(json.dumps(good))
    huge["metadata"]["message_timestamp"] = "9" * 400
    out = parse([far, huge, good])
    assert [type(o).__name__ for o in out] == ["Reject", "Reject", "ChatEvent"]
    assert all("outside 1970" in o.reason for o in out[:2])  # type: ignore[union-attr]
    # An RFC 3339 stamp at the calendar's edge overflows when moved to UTC: a reject too.
    edge = json.loads(json.dumps(good))
    edge["metadata"]["message_timestamp"] = "0001-01-01T00:00:00+01:00"
    assert [type(o).__name__ for o in parse([edge, good])] == ["Reject", "ChatEvent"]


async def test_websocket_session_reconnect_keepalive_and_dedup(
    httpserver: HTTPServer, data_dir: Path, vectors: Path, tmp_path: Path
):
    base = messages(vectors)
    templates = [
        base["channel.chat.message"],
        base["channel.chat.notification-resub-msg"],
        base["channel.moderate-timeout"],
    ]
    notes = []
    for i in range(30):
        note = copy.deepcopy(templates[i % 3])
        note["metadata"]["message_id"] = f"n{i}"
        note["metadata"]["message_timestamp"] = (T0 + timedelta(minutes=3 * i)).isoformat()
        notes.append(note)
    fake = FakeHelix(httpserver, data_dir)
    tokens = TokenManager(CLIENT_ID, SecretStr(CLIENT_SECRET), auth_base=fake.auth_base)
    async with (
        HelixClient(tokens, base_url=fake.helix_base) as helix,
        EventSubServer(notes, reconnect_after=8, silent_after=17, redeliver=3) as server,
    ):
        stop = asyncio.Event()
        client = EventSubClient(
            helix.create_eventsub_subscription,
            ["1971641"],
            "2914196",
            tmp_path,
            url=server.url,
            keepalive_slack=0.3,
            backoff_base=0.01,
        )
        task = asyncio.create_task(client.run(stop, max_runtime=20))
        await asyncio.wait_for(server.done.wait(), 15)
        for _ in range(200):  # the client may still be subscribing its new session
            if client.stats.notifications >= 30:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # a late duplicate would land now
        stop.set()
        stats = await task
    assert stats.notifications == 30 and stats.duplicates == 1
    assert stats.reconnects == 1 and len(stats.gaps) == 1
    assert "keepalive" in stats.gaps[0]["reason"]
    assert stats.subscriptions == 12 and len(fake.subscriptions) == 12  # 2 sessions x 6 types
    assert {s["type"] for s in fake.subscriptions} == {t for t, _ in SUBSCRIPTION_TYPES}
    assert fake.subscriptions[0]["transport"]["method"] == "websocket"
    files = sorted((tmp_path / "eventsub").rglob("*.jsonl"))
    lines = [line for f in files for line in f.read_bytes().splitlines()]
    assert len(lines) == 30 and len({json.loads(x)["metadata"]["message_id"] for x in lines}) == 30
    # keyed by channel and message_timestamp hour
    assert {f"{f.parts[-3]}/{f.name}" for f in files} == {
        f"{c}/{h}.jsonl" for c in ("streamer", "amar", "nerixyz") for h in (12, 13)
    }
    events = list(parse_eventsub_records(lines))
    assert all(isinstance(e, ChatEvent) for e in events) and len(events) == 30
