"""Shared fixtures: real chat as message frames (skipped when the shared data is absent)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from ingestion.events import ChatEvent, EventType
from ingestion.irc import parse_lines
from tests.chat_data import missing
from twitch_warehouse.settings import get_settings

DATA = get_settings().chat_data_dir  # CHAT_DATA_DIR, default ../shared/data
IRC_XQC = DATA / "irc-raw-xqcow" / "channel.txt.gz"
VOD_DIR = DATA / "vod-chat-gql"


@pytest.fixture(scope="session")
def xqc_events() -> pd.DataFrame:
    """All events of the 5,000 raw #xqcow lines as a flat frame (messages and moderation)."""
    if not IRC_XQC.exists():
        missing(f"real chat not available at {IRC_XQC}")
    with gzip.open(IRC_XQC, "rb") as fh:
        events = [e for e in parse_lines(fh) if isinstance(e, ChatEvent)]
    return pd.DataFrame(
        {
            "channel": [e.channel for e in events],
            "stream_id": "xqc-2019-09-15",
            "event_type": [str(e.event_type) for e in events],
            "sent_at": pd.to_datetime([e.sent_at for e in events], utc=True),
            "user_login": [e.user_login for e in events],
            "target_user_login": [e.target_user_login for e in events],
            "text": [e.text for e in events],
            "emotes": [[o.code for o in e.emotes] for e in events],
            "subscriber_months": [e.subscriber_months for e in events],
            "notice_kind": [e.notice_kind for e in events],
        }
    )


@pytest.fixture(scope="session")
def xqc_messages(xqc_events: pd.DataFrame) -> pd.DataFrame:
    return xqc_events[xqc_events["event_type"] == EventType.MESSAGE.value].reset_index(drop=True)


@pytest.fixture(scope="session")
def vod_dir() -> Path:
    if not VOD_DIR.exists():
        missing(f"VOD chat not available at {VOD_DIR}")
    return VOD_DIR
