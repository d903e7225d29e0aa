"""Published pseudonyms are keyed by a secret nobody else knows: PSEUDONYM_KEY, else a random key
made once per installation. (A default key in the source would let anyone reverse them.)"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reports.privacy import pseudonym
from twitch_warehouse.settings import Settings


def _settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    return Settings(_env_file=None)  # pyright: ignore[reportCallIssue]


def test_without_pseudonym_key_each_installation_makes_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    first = _settings(tmp_path / "a", monkeypatch).pseudonym_secret()
    again = _settings(tmp_path / "a", monkeypatch).pseudonym_secret()
    other = _settings(tmp_path / "b", monkeypatch).pseudonym_secret()
    assert first == again and first != other and len(first) >= 32
    key_file = tmp_path / "a" / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert pseudonym("alice", first) != pseudonym("alice", other)
    assert not list((tmp_path / "a").glob(".pseudonym.key.*"))  # no draft left behind


def test_pseudonym_key_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PSEUDONYM_KEY", "a-key-set-by-the-operator")
    assert _settings(tmp_path, monkeypatch).pseudonym_secret() == "a-key-set-by-the-operator"
    assert not (tmp_path / "pseudonym.key").exists()
