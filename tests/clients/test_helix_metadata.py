"""Helix metadata snapshots: fetched from the fake Helix, upserted into a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import LiteralString

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from ingestion import helix_metadata as hm
from ingestion.clients.helix import HelixClient, TokenManager
from ingestion.load import ensure_day_partitions
from tests.servers.fake_helix import CLIENT_ID, CLIENT_SECRET, FakeHelix
from twitch_warehouse.db import PgUrl

CHANNELS = ["forsen", "xqcow", "nymn"]
T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
KEYS: dict[str, LiteralString] = {
    "helix_users": "user_id",
    "helix_channels": "broadcaster_id",
    "helix_videos": "video_id",
    "helix_badges": "scope, broadcaster_id, set_id, version_id",
}


@pytest.fixture
def fake(httpserver: HTTPServer, data_dir: Path) -> FakeHelix:
    return FakeHelix(httpserver, data_dir, page_size_cap=10, videos=12)


@pytest.fixture
async def helix(fake: FakeHelix) -> AsyncIterator[HelixClient]:
    tokens = TokenManager(CLIENT_ID, SecretStr(CLIENT_SECRET), auth_base=fake.auth_base)
    async with HelixClient(tokens, base_url=fake.helix_base, backoff_base=0.01) as client:
        yield client


@pytest.fixture
def conn(migrated: PgUrl) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated.libpq()) as connection:
        yield connection


async def _refresh_all(
    conn: psycopg.Connection, helix: HelixClient, fetched_at: datetime
) -> dict[str, hm.Upsert]:
    users = await hm.refresh_users(conn, helix, CHANNELS, fetched_at)
    ids = list(hm.broadcaster_ids(conn, CHANNELS).values())
    return {
        "helix_users": users.result,
        "helix_channels": await hm.refresh_channels(conn, helix, ids, fetched_at),
        "helix_videos": await hm.refresh_videos(
            conn, helix, ids, video_type="all", limit=100, fetched_at=fetched_at
        ),
        "helix_badges": await hm.refresh_badges(conn, helix, ids, fetched_at=fetched_at),
    }


def _tables(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(
            sql.SQL("select * from {} order by {}").format(
                sql.Identifier("raw", table), sql.SQL(key)
            )
        ).fetchall()
        for table, key in KEYS.items()
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3h8m33s", 11313), ("45m", 2700), ("12s", 12), ("1h", 3600), ("0s", 0), ("2h0m5s", 7205),
     ("", None), (None, None), ("soon", None), ("5m3h", None)],
)  # fmt: skip
def test_parse_duration(text: str | None, seconds: int | None) -> None:
    assert hm.parse_duration(text) == seconds


async def test_refresh_fetches_and_upserts_every_table(
    conn: psycopg.Connection, fake: FakeHelix, helix: HelixClient
) -> None:
    results = await _refresh_all(conn, helix, T0)

    assert {t: r.inserted for t, r in results.items()} == {
        "helix_users": 3, "helix_channels": 3, "helix_videos": 36,
        "helix_badges": results["helix_badges"].fetched,
    }  # fmt: skip
    assert all(r.updated == r.deleted == 0 for r in results.values())
    # Videos page by cursor: 12 per channel at 10 per page is two requests each.
    assert [p for _, p, _ in fake.requests].count("/helix/videos") == 6

    forsen_id = fake.user_id("forsen")
    user = conn.execute(
        "select login, display_name, broadcaster_type, description, created_at,"
        " profile_image_url, payload, fetched_at from raw.helix_users where user_id = %s",
        (forsen_id,),
    ).fetchone()
    assert user is not None
    expected = fake.user("forsen")
    assert user[:4] == ("forsen", "Forsen", expected["broadcaster_type"], expected["description"])
    assert user[4] == datetime.fromisoformat(expected["created_at"])
    assert user[5] == expected["profile_image_url"] and user[6] == expected and user[7] == T0

    channel = conn.execute(
        "select broadcaster_login, game_name, title, broadcaster_language, tags, payload"
        " from raw.helix_channels where broadcaster_id = %s",
        (forsen_id,),
    ).fetchone()
    assert channel == ("forsen", "Minecraft", "forsen plays blocks", "en",
                       ["English", "Speedrun"], fake.channel(forsen_id))  # fmt: skip

    video = conn.execute(
        "select user_login, video_type, duration_seconds, view_count, stream_id, created_at,"
        " payload ->> 'duration' from raw.helix_videos where video_id = %s",
        (str(int(forsen_id) * 1000 + 5),),
    ).fetchone()
    assert video == ("forsen", "archive", 1 * 3600 + 35 * 60 + 5, 507, f"s{forsen_id}-5",
                     datetime(2024, 5, 23, 15, tzinfo=UTC), "1h35m5s")  # fmt: skip

    scopes = dict(
        conn.execute(
            "select scope, count(distinct broadcaster_id) from raw.helix_badges group by 1"
        )
    )
    assert scopes == {"global": 1, "channel": 3}
    subscriber = conn.execute(
        "select version_id from raw.helix_badges where broadcaster_id = %s"
        " and set_id = 'subscriber' order by version_id::int",
        (forsen_id,),
    ).fetchall()
    assert [v for (v,) in subscriber] == ["0", "3", "6", "12"]
    moderator = conn.execute(
        "select title, payload ->> 'set_id' from raw.helix_badges"
        " where scope = 'global' and set_id = 'moderator'"
    ).fetchone()
    assert moderator == ("Moderator", "moderator")


async def test_rerun_with_the_same_answers_leaves_every_table_identical(
    conn: psycopg.Connection, helix: HelixClient
) -> None:
    await _refresh_all(conn, helix, T0)
    before = _tables(conn)
    results = await _refresh_all(conn, helix, T1)

    assert _tables(conn) == before  # fetched_at included: nothing changed, nothing rewritten
    assert all(r.inserted == r.updated == r.deleted == 0 for r in results.values())
    assert all(r.unchanged == r.fetched > 0 for r in results.values())


async def test_changed_answers_replace_the_row_and_move_its_fetched_at(
    conn: psycopg.Connection, fake: FakeHelix, helix: HelixClient
) -> None:
    await _refresh_all(conn, helix, T0)
    fake.overrides["xqcow"] = {
        "user": {"display_name": "xQcOW", "broadcaster_type": "partner"},
        "channel": {"title": "react andy", "game_name": "Just Chatting", "tags": []},
        "badges": [{"set_id": "subscriber", "versions": [
            {"id": "0", "title": "Sub", "image_url_1x": "https://example.invalid/1"}]}],
    }  # fmt: skip
    fake.videos_by_user[fake.user_id("nymn")] = 14  # two new videos
    results = await _refresh_all(conn, helix, T1)

    assert (results["helix_users"].updated, results["helix_users"].unchanged) == (1, 2)
    assert (results["helix_channels"].updated, results["helix_channels"].unchanged) == (1, 2)
    assert results["helix_videos"].inserted == 14 - 12  # the rest are unchanged
    badges = results["helix_badges"]
    assert (badges.updated, badges.deleted) == (1, 3 + 2)  # Sub retitled; 3 subs, 2 bits gone

    fetched = dict(conn.execute("select login, fetched_at from raw.helix_users"))
    assert fetched == {"forsen": T0, "nymn": T0, "xqcow": T1}
    assert conn.execute(
        "select display_name, broadcaster_type from raw.helix_users where login = 'xqcow'"
    ).fetchone() == ("xQcOW", "partner")
    assert conn.execute(
        "select title, game_name, tags, fetched_at from raw.helix_channels"
        " where broadcaster_login = 'xqcow'"
    ).fetchone() == ("react andy", "Just Chatting", [], T1)
    xqcow_badges = conn.execute(
        "select set_id, version_id, title from raw.helix_badges where broadcaster_id = %s",
        (fake.user_id("xqcow"),),
    ).fetchall()
    assert xqcow_badges == [("subscriber", "0", "Sub")]


async def test_users_helix_does_not_know_are_reported_and_kept(
    conn: psycopg.Connection, fake: FakeHelix, helix: HelixClient
) -> None:
    await hm.refresh_users(conn, helix, CHANNELS, T0)
    fake.unknown_logins = {"nymn"}  # banned or renamed since
    refresh = await hm.refresh_users(conn, helix, ["#NymN", "forsen"], T1)
    assert refresh.missing == ["nymn"] and refresh.result.fetched == 1
    assert conn.execute("select count(*) from raw.helix_users").fetchone() == (3,)
    assert hm.broadcaster_ids(conn, ["nymn", "unknown"]) == {"nymn": fake.user_id("nymn")}


async def test_videos_limit_and_type(
    conn: psycopg.Connection, fake: FakeHelix, helix: HelixClient
) -> None:
    await hm.refresh_users(conn, helix, ["forsen"], T0)
    ids = list(hm.broadcaster_ids(conn, ["forsen"]).values())
    assert (await hm.refresh_videos(conn, helix, ids, limit=5, fetched_at=T0)).inserted == 5
    none = await hm.refresh_videos(conn, helix, ids, video_type="upload", fetched_at=T0)
    assert none.fetched == 0
    with pytest.raises(ValueError, match="video_type"):
        await hm.fetch_videos(helix, ids, video_type="clips")


def _chat(conn: psycopg.Connection, event_id: str, channel: str, at: datetime) -> None:
    """A message in raw.chat_events: the warehouse has seen `channel` in chat."""
    ensure_day_partitions(conn, at, at + timedelta(days=1))
    conn.execute(
        "insert into raw.chat_events (event_id, channel, event_type, sent_at, source,"
        " raw_payload) values (%s, %s, 'message', %s, 'test', '')", (event_id, channel, at),
    )  # fmt: skip


def test_tracked_channels_are_configured_or_seen_in_chat(conn: psycopg.Connection) -> None:
    assert hm.tracked_channels(conn, ["#Forsen", " xqcow ", ""]) == ["forsen", "xqcow"]
    assert hm.tracked_channels(conn) == []
    for i, (channel, at) in enumerate([("nymn", T0), ("forsen", T1), ("nymn", T1)]):
        _chat(conn, f"e{i}", channel, at)
    assert hm.tracked_channels(conn) == ["forsen", "nymn"]


def test_loads_without_a_fetch(conn: psycopg.Connection) -> None:
    """Empty answers write nothing; a global badge fetch with no sets clears the scope."""
    assert hm.load_users(conn, []) == hm.Upsert()
    badge = {"set_id": "vip", "versions": [{"id": "1", "title": "VIP"}]}
    assert hm.load_badges(conn, [hm.BadgeSet("global", "", [badge, badge])]).inserted == 1
    cleared = hm.load_badges(conn, [hm.BadgeSet("global", "", [])])
    assert cleared.deleted == 1
    assert conn.execute("select count(*) from raw.helix_badges").fetchone() == (0,)


def _materialize(config: dict | None = None) -> dict[str, dict]:
    import dagster as dg

    from orchestration.defs import helix as assets
    from orchestration.resources import WarehouseResource, twitch_api_resource

    defs = [assets.helix_users, assets.helix_channels, assets.helix_videos, assets.helix_badges]
    resources = {"warehouse": WarehouseResource(), "twitch": twitch_api_resource()}
    result = dg.materialize(defs, resources=resources, run_config=config or {})
    assert result.success
    out: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        out[materialization.asset_key.to_user_string()] = metadata
    return out


def test_assets_skip_cleanly_without_credentials(
    migrated: PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitch_warehouse.settings import get_settings

    monkeypatch.delenv("TWITCH_CLIENT_ID", raising=False)
    monkeypatch.delenv("TWITCH_CLIENT_SECRET", raising=False)
    get_settings.cache_clear()
    metadata = _materialize()
    assert set(metadata) == {f"raw/helix_{t}" for t in ("users", "channels", "videos", "badges")}
    assert all(m["skipped"] is True and m["rows_fetched"] == 0 for m in metadata.values())


def _use_fake_helix(monkeypatch: pytest.MonkeyPatch, fake: FakeHelix) -> None:
    """Credentials and endpoints as a deployment sets them: the assets' own Helix client then
    talks to the fake."""
    from twitch_warehouse.settings import get_settings

    monkeypatch.setenv("TWITCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TWITCH_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TWITCH_HELIX_URL", fake.helix_base)
    monkeypatch.setenv("TWITCH_AUTH_URL", fake.auth_base)
    get_settings.cache_clear()


def test_assets_fetch_and_report_counts(
    migrated: PgUrl, fake: FakeHelix, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_fake_helix(monkeypatch, fake)
    config = {"ops": {name: {"config": {"channels": ["Forsen", "nymn"]}}
                      for name in ("raw__helix_users", "raw__helix_channels",
                                   "raw__helix_videos", "raw__helix_badges")}}  # fmt: skip
    first = _materialize(config)
    assert first["raw/helix_users"]["rows_inserted"] == 2
    assert first["raw/helix_users"]["missing_logins"] == []
    assert first["raw/helix_channels"]["table_rows"] == 2
    assert first["raw/helix_videos"]["rows_inserted"] == 24
    assert first["raw/helix_videos"]["videos_by_type"] == {"archive": 24}
    assert first["raw/helix_badges"]["versions_by_scope"]["channel"] == 12
    assert "| forsen |" in first["raw/helix_users"]["preview"]

    again = _materialize(config)
    assert all(m["rows_inserted"] == m["rows_updated"] == 0 for m in again.values())
    assert all(m["rows_unchanged"] == m["rows_fetched"] > 0 for m in again.values())


def test_live_streams_of_every_channel_seen_in_chat_without_a_channel_list(
    migrated: PgUrl, fake: FakeHelix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live-streams sensor's runs carry no config: the asset asks Helix about the channels
    with chat in the warehouse, and asks nothing when there are none."""
    import dagster as dg

    from orchestration.defs import catalogs
    from orchestration.resources import WarehouseResource, twitch_api_resource

    _use_fake_helix(monkeypatch, fake)

    def upserted() -> int:
        resources = {"warehouse": WarehouseResource(), "twitch": twitch_api_resource()}
        result = dg.materialize([catalogs.helix_streams], resources=resources)
        (event,) = result.get_asset_materialization_events()
        return event.materialization.metadata["streams_upserted"].value  # type: ignore[return-value]

    def asked() -> list[list[str]]:
        return [request.args.getlist("user_login") for request, _ in fake.server.log
                if request.path == "/helix/streams"]  # fmt: skip

    assert upserted() == 0 and asked() == []  # no chat yet: nothing to ask about
    with psycopg.connect(migrated.libpq()) as conn:
        _chat(conn, "e1", "forsen", T0)
    assert upserted() == 1 and asked() == [["forsen"]]
    with psycopg.connect(migrated.libpq()) as conn:
        stored = conn.execute("select channel, game_name from raw.helix_streams").fetchall()
    assert stored == [("forsen", "Minecraft")]


def test_the_catalog_job_fetches_emote_sets_only_where_twitch_is_configured(
    migrated: PgUrl, httpserver: HTTPServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily schedule passes no config: a deployment with Twitch credentials refreshes the
    global sets and those of every channel seen in chat, from the emote APIs it is configured
    with (here loopback servers answering with real API responses); without credentials (the
    demo, offline) only landed snapshots load and nothing is asked."""
    import dagster as dg

    from orchestration.defs import catalogs
    from orchestration.resources import WarehouseResource, emote_apis_resource, twitch_api_resource
    from tests.servers.fake_emotes import NYMN_ID, serve_emote_apis
    from twitch_warehouse.settings import get_settings

    fake = FakeHelix(httpserver, data_dir, overrides={"nymn": {"user": {"id": NYMN_ID}}})
    emote_apis = serve_emote_apis(httpserver, data_dir)
    for name in ("BTTV_API_URL", "FFZ_API_URL", "SEVENTV_API_URL"):
        monkeypatch.setenv(name, emote_apis)
    with psycopg.connect(migrated.libpq()) as conn:
        _chat(conn, "e1", "nymn", T0)

    def run() -> dict[str, int]:
        get_settings.cache_clear()
        resources = {"warehouse": WarehouseResource(), "twitch": twitch_api_resource(),
                     "emote_apis": emote_apis_resource()}  # fmt: skip
        assert dg.materialize([catalogs.emote_catalogs], resources=resources).success
        with psycopg.connect(migrated.libpq()) as conn:
            return dict(conn.execute(
                "select provider || ':' || scope || ':' || coalesce(channel, ''), count(*)"
                " from raw.emote_catalog_snapshots group by 1 order by 1"
            ).fetchall())  # fmt: skip

    monkeypatch.delenv("TWITCH_CLIENT_ID", raising=False)
    monkeypatch.delenv("TWITCH_CLIENT_SECRET", raising=False)
    assert run() == {} and httpserver.log == []
    _use_fake_helix(monkeypatch, fake)
    # Global sets of the three providers, and nymn's 7TV set found by the id Helix gave for
    # the login (BTTV and FFZ do not know nymn: 404, an empty set); distinct ids, recounted
    # from the files the servers answer with.
    import json

    cat = data_dir / "emote-catalogs"
    nymn = json.loads((data_dir / "irc-eventsub-vectors/benchmarks/resources/"
                       "seventvemotes-nymn.json").read_text())["emote_set"]["emotes"]  # fmt: skip
    bttv = json.loads((cat / "helix-bttv-7tv-2023/bttv_global.json").read_text())
    ffz = json.loads((cat / "ffz-bttv-v2-hey_jase/ffz.json").read_text())["sets"]
    seventv = len({e["id"] for e in nymn})
    assert run() == {
        "bttv:global:": len({e["id"] for e in bttv}),
        "ffz:global:": len({e["id"] for s in ffz.values() for e in s["emoticons"]}),
        "7tv:global:": seventv,
        "7tv:channel:nymn": seventv,
    }
    users = [r.args.getlist("login") for r, _ in httpserver.log if r.path == "/helix/users"]
    assert users == [["nymn"]]


def test_the_client_secret_goes_only_to_https_or_loopback_endpoints() -> None:
    from orchestration.resources import TwitchApiResource

    def helix_at(auth_url: str) -> object:
        twitch = TwitchApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                   auth_url=auth_url)  # fmt: skip
        return twitch.helix()

    for refused in ("http://id.twitch.example", "https://user:pass@proxy.example"):
        with pytest.raises(ValueError, match=r"https is required|credentials belong"):
            helix_at(refused)
    assert helix_at("https://id.twitch.tv") and helix_at("http://127.0.0.1:8080")
