from __future__ import annotations

from pathlib import Path

import pytest

from tests.chat_data import missing
from tests.servers.irc_replay import load_replay_lines
from twitch_warehouse.settings import get_settings


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = get_settings().chat_data_dir
    if not path.exists():
        missing(f"real chat data not found at {path}")
    return path


@pytest.fixture(scope="session")
def xqcow_lines(data_dir: Path) -> list[str]:
    return load_replay_lines(data_dir / "irc-raw-xqcow" / "channel.txt.gz")
