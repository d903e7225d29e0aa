"""Shared fixtures for ingestion tests: files of the real data folder (skipped when absent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chat_data import missing
from twitch_warehouse.settings import get_settings


@pytest.fixture(scope="session")
def data() -> Callable[[str], Path]:
    """`data("irc-raw-xqcow/channel.txt.gz")`: the path, or a skip saying what is missing."""
    root = get_settings().chat_data_dir

    def find(relative: str) -> Path:
        path = root / relative
        if not path.exists():
            missing(f"{relative} not found under CHAT_DATA_DIR={root}")
        return path

    return find
