"""Helix client against a fake Helix: token refresh, rate limits, retries, pagination."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from ingestion.clients.helix import HelixClient, HelixError, TokenManager, TwitchAuthError
from tests.servers.fake_helix import CLIENT_ID, CLIENT_SECRET, FakeHelix


@pytest.fixture
def fake(httpserver: HTTPServer, data_dir: Path) -> FakeHelix:
    return FakeHelix(httpserver, data_dir)


@pytest.fixture
async def helix(fake: FakeHelix) -> AsyncIterator[HelixClient]:
    tokens = TokenManager(CLIENT_ID, SecretStr(CLIENT_SECRET), auth_base=fake.auth_base)
    async with HelixClient(tokens, base_url=fake.helix_base, backoff_base=0.01) as client:
        yield client


async def test_refresh_on_401_then_retry_once(fake: FakeHelix, helix: HelixClient):
    assert [u["login"] for u in await helix.users(["Forsen", "xqcow"])] == ["forsen", "xqcow"]
    fake.revoke_all()  # the token dies server-side before its expiry
    assert len(await helix.users(["nymn"])) == 1
    assert fake.token_requests == ["client_credentials", "client_credentials"]
    assert [s for _, p, s in fake.requests if p == "/helix/users"] == ["200", "401", "200"]


async def test_proactive_refresh_before_expiry(fake: FakeHelix, helix: HelixClient):
    fake.token_lifetime = 2  # the client renews at half the lifetime at the latest
    await helix.users(["a"])
    time.sleep(1.1)
    await helix.users(["b"])
    assert fake.token_requests == ["client_credentials"] * 2
    assert all(s == "200" for *_, s in fake.requests)  # renewed before any 401


async def test_429_waits_for_the_reset_header(fake: FakeHelix, helix: HelixClient):
    fake.faults = [429]
    await helix.users(["a"])
    (t429, _, s1), (t_ok, _, s2) = fake.requests
    assert (s1, s2) == ("429", "200")
    reset = int(t429) + 1  # the fake's reset is the next whole second
    assert t_ok >= reset - 0.05


async def test_429_with_a_reset_already_past_backs_off(fake: FakeHelix):
    """A reset header in the past by the client's clock (its clock runs ahead of Twitch's) must
    not turn into back-to-back retries: each 429 waits a growing backoff."""
    fake.reset_offset = -30
    fake.faults = [429, 429, 429]
    tokens = TokenManager(CLIENT_ID, SecretStr(CLIENT_SECRET), auth_base=fake.auth_base)
    async with HelixClient(tokens, base_url=fake.helix_base, backoff_base=0.05) as client:
        await client.users(["a"])
    times = [t for t, _, _ in fake.requests]
    assert [s for *_, s in fake.requests] == ["429", "429", "429", "200"]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    # Jittered between half and all of 0.05 * 2, 4, 8 s.
    assert all(gap >= 0.05 * 2**k * 0.5 - 0.005 for k, gap in enumerate(gaps, start=1)), gaps


async def test_empty_bucket_sleeps_before_the_next_request(fake: FakeHelix, helix: HelixClient):
    fake.empty_bucket_once = True
    await helix.users(["a"])
    await helix.users(["b"])
    (t1, _, _), (t2, _, _) = fake.requests
    assert t2 >= int(t1) + 1 - 0.05
    assert all(s == "200" for *_, s in fake.requests)  # no request wasted on a 429


async def test_5xx_retried_then_clear_error_without_secrets(fake: FakeHelix, helix: HelixClient):
    fake.faults = [500, 503]
    assert len(await helix.videos("1", limit=5)) == 5
    fake.faults = [500] * 10
    with structlog.testing.capture_logs() as logs, pytest.raises(HelixError) as err:
        await helix.users(["a"])
    message = str(err.value)
    assert "GET /users" in message and "HTTP 500" in message and "5 attempts" in message
    token = next(iter(fake.tokens))
    assert token not in message and CLIENT_SECRET not in message
    assert all(token not in repr(e) and CLIENT_SECRET not in repr(e) for e in logs)


async def test_cursor_pagination(fake: FakeHelix, helix: HelixClient):
    videos = await helix.videos("42")
    assert [v["id"] for v in videos] == [str(42000 + i) for i in range(25)]
    assert sum(1 for _, p, _ in fake.requests if p == "/helix/videos") == 3


async def test_videos_limit_asks_only_for_what_it_needs(fake: FakeHelix, helix: HelixClient):
    fake.page_size_cap = 100
    assert len(await helix.videos("42", limit=7)) == 7
    assert len(await helix.videos("42", video_type="highlight")) == 0
    assert len(await helix.videos("42", video_type="all")) == 25
    assert [p for _, p, _ in fake.requests] == ["/helix/videos"] * 3  # one page each


async def test_users_by_login_and_id_have_stable_ids(fake: FakeHelix, helix: HelixClient):
    first = await helix.users(["Forsen"])
    again = await helix.users(ids=[first[0]["id"]])
    assert first == again and first[0]["login"] == "forsen"
    assert first[0]["broadcaster_type"] in ("partner", "affiliate", "")
    assert first[0]["created_at"].endswith("Z") and first[0]["profile_image_url"]
    fake.unknown_logins = {"ghost"}
    assert [u["login"] for u in await helix.users(["ghost", "nymn"])] == ["nymn"]


async def test_channel_information_batches_100_ids(fake: FakeHelix, helix: HelixClient):
    users = await helix.users([f"chan{i}" for i in range(150)])
    ids = [u["id"] for u in users]
    channels = await helix.channel_information([*ids, ids[0]])  # duplicates are asked once
    assert [c["broadcaster_id"] for c in channels] == ids
    assert channels[0]["broadcaster_login"] == "chan0" and channels[0]["game_name"]
    assert isinstance(channels[0]["tags"], list)
    assert [p for _, p, _ in fake.requests].count("/helix/channels") == 2
    assert await helix.channel_information([]) == []


async def test_channel_badges_differ_from_global(fake: FakeHelix, helix: HelixClient):
    (user,) = await helix.users(["xqcow"])
    channel = await helix.channel_badges(user["id"])
    assert {b["set_id"] for b in channel} == {"subscriber", "bits"}
    assert all(v["id"] and v["image_url_1x"] for b in channel for v in b["versions"])
    global_sets = await helix.global_badges()
    pairs = [(b["set_id"], v["id"]) for b in global_sets for v in b["versions"]]
    assert len(pairs) == len(set(pairs)) and all(s for s, _ in pairs)


async def test_endpoints_return_real_payloads(fake: FakeHelix, helix: HelixClient, data_dir: Path):
    assert len((await helix.global_emotes())["data"]) == 299
    assert len((await helix.channel_emotes("1"))["data"]) == 15
    badges = await helix.global_badges()
    # Every badge set of the real file the fake serves comes back: each key is a set id, or a
    # set id plus a `_<n>` suffix (`60-seconds_2`).
    raw = json.loads((data_dir / "irc-eventsub-vectors/resources/twitch-badges.json").read_text())
    ids = {b["set_id"] for b in badges}
    assert ids >= {"subscriber", "moderator", "broadcaster", "vip"}
    assert [key for key in raw if key not in ids and key.rpartition("_")[0] not in ids] == []
    streams = await helix.streams(["xqcow"])
    assert streams[0]["title"] == "speedrun" and streams[0]["started_at"]


async def test_user_token_refresh_rotates_refresh_token(fake: FakeHelix):
    first = fake.new_refresh_token()
    tokens = TokenManager(
        CLIENT_ID,
        SecretStr(CLIENT_SECRET),
        auth_base=fake.auth_base,
        refresh_token=SecretStr(first),
    )
    async with HelixClient(tokens, base_url=fake.helix_base) as helix:
        await helix.users(["a"])
        fake.revoke_all()
        await helix.users(["b"])
    assert fake.token_requests == ["refresh_token", "refresh_token"]
    assert tokens.refresh_token is not None and tokens.refresh_token.get_secret_value() != first


async def test_bad_secret_is_an_auth_error_without_the_secret(fake: FakeHelix):
    tokens = TokenManager(CLIENT_ID, SecretStr("wrong-secret-123"), auth_base=fake.auth_base)
    with pytest.raises(TwitchAuthError) as err:
        await tokens.token()
    assert "HTTP 403" in str(err.value) and "wrong-secret-123" not in str(err.value)
