"""`make ui`: the Dagster webserver on 127.0.0.1 serves the whole lineage."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from twitch_warehouse.db import PgUrl

pytestmark = pytest.mark.integration

QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ancestors(graph: dict[str, list[str]], key: str) -> set[str]:
    seen: set[str] = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_ui_serves_the_whole_lineage(warehouse_env: PgUrl) -> None:
    port = _free_port()
    cli = [str(Path(sys.executable).with_name("twitch-warehouse"))]
    env = dict(os.environ)
    started = subprocess.run([*cli, "ui", "--port", str(port)], env=env, capture_output=True,
                             text=True, timeout=180)  # fmt: skip
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=60)
        nodes = response.json()["data"]["assetNodes"]
    finally:
        subprocess.run([*cli, "stop"], env=env, capture_output=True, timeout=60)
    graph = {
        "/".join(n["assetKey"]["path"]): ["/".join(d["path"]) for d in n["dependencyKeys"]]
        for n in nodes
    }
    # raw -> staging -> ML -> marts -> report, as one lineage.
    site = _ancestors(graph, "reports/site")
    for key in ("raw/chat_events", "staging/stg_raw__chat_events", "ml/message_sentiment",
                "intermediate/int_chat_window_activity", "marts/fct_chat_windows",
                "ml/chatter_segments", "marts/dim_channel_chatters",
                "marts/dim_chatters"):  # fmt: skip
        assert key in site, key
    assert "ml/message_sentiment" in _ancestors(graph, "marts/fct_chat_messages")
    assert len(graph) >= 40


def test_ui_refuses_a_port_another_program_holds(warehouse_env: PgUrl) -> None:
    """Another warehouse's UI may answer on that port: `ui` must not hand out its address."""
    cli = [str(Path(sys.executable).with_name("twitch-warehouse"))]
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        started = subprocess.run([*cli, "ui", "--port", str(port)], env=dict(os.environ),
                                 capture_output=True, text=True, timeout=180)  # fmt: skip
    assert started.returncode == 1
    assert f"port {port} is taken" in started.stdout and "Dagster UI" not in started.stdout
    assert not any((Path(os.environ["WAREHOUSE_HOME"]) / "run").glob("webserver.pid"))
