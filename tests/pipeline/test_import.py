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

    # Without the flag again: refused, but the copy accepted knowingly above stays landed (and
    # loaded), and the message says so rather than "nothing of it was loaded".
    landing = sorted(get_settings().landing_dir.rglob("*.log"))
    again = runner.invoke(app, ["import", str(mixed), "--channel", "xqcow", "--no-materialize"])
    assert again.exit_code == 2
    assert "earlier import accepted it" in "".join(again.output.split("\n"))
    assert sorted(get_settings().landing_dir.rglob("*.log")) == landing


def test_chat_older_than_the_partitions_is_built_without_a_dagster_partition(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Hourly partitions start in 2019: a 2018 text log (a short range, which would otherwise be
    one Dagster run) is built by the bulk pass instead of failing on a missing partition."""
    log = tmp_path / "2018.log"
    log.write_text("[2018-06-01 20:15:00] #oldchannel alice: hello\n"
                   "[2018-06-01 20:16:00] #oldchannel bob: Kappa hi\n"
                   "[2018-06-01 21:05:00] #oldchannel alice: bye\n")  # fmt: skip
    result = CliRunner().invoke(app, ["import", str(log)])
    assert result.exit_code == 0, (result.output, result.exception)
    with psycopg.connect(migrated.libpq()) as conn:
        messages = conn.execute(
            "select count(*) from marts.fct_chat_messages where channel = 'oldchannel'"
            " and sent_at < '2019-01-01'"
        ).fetchone()[0]  # type: ignore[index]
    assert messages == 3


def test_a_start_that_is_not_a_time_is_a_usage_error(tmp_path: Path) -> None:
    log = tmp_path / "relative.log"
    log.write_text("[0:00:05] alice: hi\n")
    result = CliRunner().invoke(app, ["import", str(log), "--start", "15/07/2021 01:59"])
    assert result.exit_code == 2 and result.exception is not None
    assert "--start" in result.output and "ISO-8601" in result.output
