"""What a test does when the real chat data (`CHAT_DATA_DIR`) is absent."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip on a machine without the data; fail in CI, where a missing or renamed data set would
    otherwise turn every test that reads it into a silent skip and the run still green."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI runs with ../shared/data beside the checkout", pytrace=False)
    pytest.skip(reason)
