"""BTTV, FFZ and 7TV emote APIs on a pytest-httpserver (127.0.0.1), answering with real files."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

NYMN_ID = "62300805"
T3NEPPA_ID = "518460394"


def serve_emote_apis(server: HTTPServer, data_dir: Path) -> str:
    cat = data_dir / "emote-catalogs"
    nymn = json.loads(
        (data_dir / "irc-eventsub-vectors/benchmarks/resources/seventvemotes-nymn.json").read_text()
    )
    ffz = json.loads((cat / "ffz-bttv-v2-hey_jase/ffz.json").read_text())
    routes = {
        "/3/cached/emotes/global": (cat / "helix-bttv-7tv-2023/bttv_global.json").read_text(),
        f"/3/cached/users/twitch/{T3NEPPA_ID}": (
            cat / "helix-bttv-7tv-2023/bttv_t3neppa.json"
        ).read_text(),
        "/2/channels/hey_jase": (cat / "ffz-bttv-v2-hey_jase/bttv.json").read_text(),
        "/v1/room/hey_jase": json.dumps(ffz),
        # FFZ's global endpoint shape, built around the real set (no real global payload here)
        "/v1/set/global": json.dumps(
            {"default_sets": [int(ffz["room"]["set"])], "sets": ffz["sets"]}
        ),
        f"/v3/users/twitch/{NYMN_ID}": json.dumps(nymn),
        "/v3/emote-sets/global": json.dumps(nymn["emote_set"]),
        "/v2/users/anny/emotes": (cat / "helix-bttv-7tv-2023/7tv_anny.json").read_text(),
    }
    for path, body in routes.items():
        server.expect_request(path).respond_with_data(body, content_type="application/json")
    server.no_handler_status_code = 404  # unknown channel, like the real APIs
    return server.url_for("").rstrip("/")
