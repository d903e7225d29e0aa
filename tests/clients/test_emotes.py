"""Emote catalog parsing on real API responses (counts recounted from the raw JSON) and fetching."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from pytest_httpserver import HTTPServer

from ingestion.clients import emotes as em
from tests.servers.fake_emotes import NYMN_ID, T3NEPPA_ID, serve_emote_apis


def load(path: Path):
    return json.loads(path.read_text("utf-8"))


def test_catalog_counts_match_an_independent_recount(data_dir: Path):
    cat = data_dir / "emote-catalogs"
    helix = load(cat / "helix-bttv-7tv-2023/twitch_global.json")
    bttv_global = load(cat / "helix-bttv-7tv-2023/bttv_global.json")
    seventv_v2 = load(cat / "helix-bttv-7tv-2023/7tv_anny.json")
    ffz = load(cat / "ffz-bttv-v2-hey_jase/ffz.json")
    bttv_v2 = load(cat / "ffz-bttv-v2-hey_jase/bttv.json")
    nymn = load(data_dir / "irc-eventsub-vectors/benchmarks/resources/seventvemotes-nymn.json")
    cases = [
        (em.parse_helix_emotes(helix), len(helix["data"]), 299),
        (em.parse_bttv_global(bttv_global), len(bttv_global), 57),
        (em.parse_7tv_v2_channel(seventv_v2, "anny"), len(seventv_v2), 434),
        (em.parse_ffz_room(ffz), sum(len(s["emoticons"]) for s in ffz["sets"].values()), 18),
        (em.parse_bttv_v2_channel(bttv_v2, "hey_jase"), len(bttv_v2["emotes"]), 84),
        (em.parse_7tv_v3_user(nymn), nymn["emote_set"]["emote_count"], 837),
    ]
    for parsed, recount, documented in cases:
        assert len(parsed) == recount == documented
        assert all(e.code and e.emote_id for e in parsed)
    assert len({e.emote_id for e in cases[0][0]}) == 299  # codes repeat (smiley variants), ids not
    assert cases[3][0][0].channel == "hey_jase" and cases[3][0][0].provider == "ffz"
    assert {e.channel for e in cases[5][0]} == {"nymn"}


def test_channel_formats_keep_scope_owner_and_flags(data_dir: Path):
    cat = data_dir / "emote-catalogs/helix-bttv-7tv-2023"
    channel = em.parse_helix_emotes(load(cat / "t3neppa.json"), "channel", "t3neppa")
    assert len(channel) == 15 and {e.scope for e in channel} == {"channel"}
    assert Counter(e.emote_type for e in channel)["subscriptions"] >= 1
    user = load(cat / "bttv_t3neppa.json")
    bttv = em.parse_bttv_user(user, "T3Neppa")
    assert len(bttv) == len(user["channelEmotes"]) + len(user["sharedEmotes"]) == 50
    assert bttv[0].owner == "t3neppa" and bttv[0].channel == "t3neppa"


def test_bttv_history_snapshots(data_dir: Path):
    path = data_dir / "rechat-v5-northernlion/bttv-emotes-history-2025-06-20.json"
    snaps = em.load_bttv_history(path)
    raw = load(path)
    assert len(raw) == 116 and len(snaps) == 2 * 116  # one global + one channel set per date
    assert [s.snapshot_date for s in snaps] == sorted(s.snapshot_date for s in snaps)
    last = [s for s in snaps if s.snapshot_date == date(2025, 6, 20)]
    by_scope = {s.scope: s for s in last}
    assert len(by_scope["global"].emotes) == len(raw["2025-06-20"]["global"]) == 65
    nl = raw["2025-06-20"]["northernlion"]
    assert len(by_scope["channel"].emotes) == len(nl["channelEmotes"]) + len(nl["sharedEmotes"])
    assert by_scope["channel"].channel == "northernlion"
    record = by_scope["channel"].as_record()
    assert record["snapshot_date"] == "2025-06-20" and json.dumps(record)


async def test_fetch_from_loopback_apis(httpserver: HTTPServer, data_dir: Path):
    base = serve_emote_apis(httpserver, data_dir)
    today = date(2024, 1, 1)
    async with em.EmoteCatalogClient(bttv_base=base, ffz_base=base, seventv_base=base) as client:
        globals_ = await client.global_snapshots(today)
        assert [len(s.emotes) for s in globals_] == [57, 18, 837]
        assert (await client.bttv_channel(today, "t3neppa", T3NEPPA_ID)).emotes[
            0
        ].provider == "bttv"
        assert len((await client.ffz_channel(today, "hey_jase")).emotes) == 18
        assert len((await client.seventv_channel(today, "nymn", NYMN_ID)).emotes) == 837
        missing = await client.ffz_channel(today, "nobody")  # 404: no FFZ room
    assert missing.emotes == []
