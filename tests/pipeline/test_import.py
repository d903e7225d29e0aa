"""`twitch-warehouse import` on real chat: rejects quarantined, refusal without the flag."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tests.chat_data import missing
from twitch_warehouse.cli import app
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

GARBAGE = ["garbage {i}", "@a=b :x PRIVMSG", "\x00bad {i}", "PRIVMSG #xqcow :no tags {i}",
           "@tmi-sent-ts=nope :u!u@u PRIVMSG #xqcow :x {i}", "@bad\\"]  # fmt: skip


def _mixed_file(path: Path, data_dir: Path) -> tuple[list[str], int]:
    """10,000 lines: real #xqcow lines interleaved with garbage; returns (real lines, garbage)."""
    with gzip.open(data_dir / "irc-raw-xqcow" / "channel.txt.gz", "rt") as fh:
        real = fh.read().splitlines()
    rng = random.Random(3)
    lines, n_real = [], 0
    for i in range(10_000):
        if rng.random() < 0.5 and n_real < len(real):
            lines.append(real[n_real])
            n_real += 1
        else:
            lines.append(rng.choice(GARBAGE).format(i=i))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return real[:n_real], 10_000 - n_real


def test_a_dirty_file_is_refused_and_the_clean_file_beside_it_lands(
    migrated: PgUrl, tmp_path: Path
) -> None:
    data_dir = get_settings().chat_data_dir
    if not (data_dir / "irc-raw-xqcow").exists():
        missing(f"real chat data not found in {data_dir}")
    real, _ = _mixed_file(tmp_path / "mixed.txt", data_dir)
    clean = tmp_path / "clean.txt"
    clean.write_text("\n".join(real[:300]) + "\n", encoding="utf-8")
    # The clean file is 300 lines beside 10,000 mostly garbage ones: judged together, both
    # would be refused (or, with a looser ratio, both accepted).
    result = CliRunner().invoke(app, ["import", str(tmp_path / "mixed.txt"), str(clean),
                                      "--channel", "xqcow", "--no-materialize"])  # fmt: skip
    assert result.exit_code == 2
    flat = "".join(result.output.split())  # the console wraps long paths anywhere
    assert flat.count("Refused") == 1 and "Refused" + str(tmp_path / "mixed.txt") in flat
    landed = [
        line
        for path in get_settings().landing_dir.rglob("*.log")
        for line in path.read_text().splitlines()
    ]
    assert sorted(landed) == sorted(real[:300])


def test_dirty_file_is_refused_then_accepted_knowingly(migrated: PgUrl, tmp_path: Path) -> None:
    data_dir = get_settings().chat_data_dir
    if not (data_dir / "irc-raw-xqcow").exists():
        missing(f"real chat data not found in {data_dir}")
    mixed = tmp_path / "mixed.txt"
    real, n_garbage = _mixed_file(mixed, data_dir)
    runner = CliRunner()

    refused = runner.invoke(app, ["import", str(mixed), "--channel", "xqcow", "--no-materialize"])
    assert refused.exit_code == 2
    assert "Refused" in refused.output and "--max-reject-ratio" in refused.output
    assert not list(get_settings().landing_dir.rglob("*.log"))  # nothing left landed

    accepted = runner.invoke(
        app, ["import", str(mixed), "--channel", "xqcow", "--max-reject-ratio", "1"]
    )
    assert accepted.exit_code == 0, accepted.output
    with psycopg.connect(migrated.libpq()) as conn:
        loaded = conn.execute("select count(*) from raw.chat_events").fetchone()[0]  # type: ignore[index]
        reasons = conn.execute(
            "select reason, count(*) from raw.quarantine where source = 'import' group by 1"
        ).fetchall()
        messages = conn.execute("select count(*) from marts.fct_chat_messages").fetchone()[0]  # type: ignore[index]
    assert loaded == len(real)
    assert sum(n for _, n in reasons) == n_garbage
    assert all(reason for reason, _ in reasons)
    assert messages == sum(1 for line in real if " PRIVMSG #xqcow :" in line)
