"""`forget` rewrites landing files that live capture may be appending to at that moment: no line
written before, during or after the rewrite is lost, and the forgotten chatter's lines are gone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from ingestion.landing import HourlyWriter, landing_path, read_lines
from twitch_warehouse.privacy import Account, forget_in_landing

HOUR = datetime(2026, 6, 1, 20, tzinfo=UTC)


def _line(n: int, login: str) -> str:
    ms = int(HOUR.timestamp() * 1000) + n
    return (f"@id=m{n};room-id=1;user-id={len(login)};tmi-sent-ts={ms}"
            f" :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #chan :line {n}")  # fmt: skip


def _stored(root: Path) -> list[str]:
    path = landing_path(root, "irc", "chan", HOUR)
    return [line.decode() for line in read_lines(path)]


def test_a_line_written_after_forget_reaches_the_new_file(tmp_path: Path) -> None:
    writer = HourlyWriter(tmp_path, "irc", batch_size=1, shared=True)
    writer.write("chan", HOUR, _line(1, "alice"))
    writer.write("chan", HOUR, _line(2, "bob"))
    assert forget_in_landing(tmp_path, Account(("alice",)))["landing_lines"] == 1
    writer.write("chan", HOUR, _line(3, "carol"))
    writer.close()
    assert _stored(tmp_path) == [_line(2, "bob"), _line(3, "carol")]


def test_forget_racing_a_busy_writer_loses_nothing(tmp_path: Path) -> None:
    writer = HourlyWriter(tmp_path, "irc", batch_size=50, shared=True)
    writer.write("chan", HOUR, _line(0, "bob"))
    logins = ["alice", "bob", "carol"]
    written: list[str] = []

    def capture() -> None:
        for n in range(1, 3000):
            line = _line(n, logins[n % 3])
            writer.write("chan", HOUR, line)
            written.append(line)

    thread = threading.Thread(target=capture)
    thread.start()
    while thread.is_alive():
        forget_in_landing(tmp_path, Account(("alice",)))
    thread.join()
    writer.close()
    forget_in_landing(tmp_path, Account(("alice",)))
    expected = [_line(0, "bob"), *(line for line in written if " :alice!" not in line)]
    assert _stored(tmp_path) == expected
