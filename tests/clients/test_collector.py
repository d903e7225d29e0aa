"""Live capture against a loopback IRC server replaying 5,000 real #xqcow lines."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from ingestion.clients.landing_sink import LandingWriteError
from ingestion.collector import TokenBucket, main, run_collector
from ingestion.irc import parse_lines
from tests.servers.irc_replay import IrcReplayServer

HOUR_FILE = Path("irc/xqcow/2019-09-15/00.log")


def landed(root: Path) -> list[str]:
    path = root / HOUR_FILE
    return path.read_text("utf-8").splitlines() if path.exists() else []


async def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def collect_until(server: IrcReplayServer, root: Path, count: int, **opts) -> object:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_collector(
            ["xqcow"],
            root,
            url=server.url,
            stop_event=stop,
            max_runtime=30,
            backoff_base=0.02,
            backoff_cap=0.1,
            **opts,
        )
    )
    try:
        await wait_for(lambda: task.done() or len(landed(root)) >= count)
    finally:
        stop.set()
    return await task


def assert_exactly_once(lines: list[str], expected: list[str]) -> None:
    counts = Counter(lines)
    dupes = {k: v for k, v in counts.items() if v > 1}
    assert not dupes, f"{len(dupes)} duplicated lines"
    assert set(lines) == set(expected)
    assert len(lines) == len(expected)


async def test_drop_reconnect_and_pings_land_every_line_once(tmp_path: Path, xqcow_lines):
    async with IrcReplayServer(
        xqcow_lines, drop_at={1234}, reconnect_at={3000}, resume_overlap=150, ping_every=700
    ) as server:
        stats = await collect_until(server, tmp_path, len(xqcow_lines))
    lines = landed(tmp_path)
    assert_exactly_once(lines, xqcow_lines)
    assert lines == xqcow_lines  # order kept too
    assert server.connections == 3
    assert stats.duplicates_skipped == 150  # the overlap the server resent
    # the last PING may race the stop; every earlier one was answered
    assert server.pings_sent >= 4 and server.pongs >= server.pings_sent - 1
    assert server.passes == ["SCHMOOPIIE"] * 3
    assert all(n.startswith("justinfan") for n in server.nicks)
    assert "twitch.tv/tags twitch.tv/commands twitch.tv/membership" in server.caps[0]
    gaps = [json.loads(g) for g in (tmp_path / "gaps.jsonl").read_text().splitlines()]
    assert len(gaps) == 2
    assert gaps[1]["reason"] == "server sent RECONNECT"
    assert all(g["start"] <= g["end"] for g in gaps)
    # ROOMSTATE has no tmi-sent-ts: landed with a receive-time prefix, once per connection,
    # and the project's parser reads it back.
    others = [
        p for p in (tmp_path / "irc" / "xqcow").rglob("*.log") if p.parent.name != "2019-09-15"
    ]
    roomstates = [line for p in others for line in p.read_text().splitlines()]
    assert len(roomstates) == 3 and all("\t@" in r for r in roomstates)
    events = list(parse_lines(r.encode() for r in roomstates))
    assert [e.event_type for e in events] == ["roomstate"] * 3


async def test_websocket_transport(tmp_path: Path, xqcow_lines):
    async with IrcReplayServer(xqcow_lines[:2000], websocket=True, chunk=200) as server:
        await collect_until(server, tmp_path, 2000)
    assert_exactly_once(landed(tmp_path), xqcow_lines[:2000])


async def test_restart_resumes_without_duplicates(tmp_path: Path, xqcow_lines):
    async with IrcReplayServer(xqcow_lines, replay_from_start=True, chunk=20) as server:
        await collect_until(server, tmp_path, 1800)  # stop (cancel) mid-stream
        first = landed(tmp_path)
        assert 1800 <= len(first) < len(xqcow_lines)
        stats = await collect_until(server, tmp_path, len(xqcow_lines))
    assert_exactly_once(landed(tmp_path), xqcow_lines)
    assert stats.duplicates_skipped >= len(first)


async def test_joins_respect_the_rate_limit(tmp_path: Path):
    channels = [f"chan{i:02d}" for i in range(45)]
    async with IrcReplayServer([], channel="none") as server:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_collector(
                channels,
                tmp_path,
                url=server.url,
                stop_event=stop,
                max_runtime=10,
                join_bucket=TokenBucket(capacity=20, per=1.0),  # Twitch's 20 per 10 s, 10x faster
            )
        )
        await wait_for(lambda: len(server.joins) == 45, timeout=6)
        stop.set()
        stats = await task
    times = [t for t, _ in server.joins]
    assert {c for _, c in server.joins} == {f"#{c}" for c in channels}
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 0.95  # never 21 JOINs inside one window
    assert times[-1] - times[0] >= 1.9  # 45 JOINs need three windows
    assert not stats.gaps  # every channel confirmed: nothing left uncovered


async def test_unwritable_landing_folder_is_a_clear_error(tmp_path: Path, xqcow_lines):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    async with IrcReplayServer(xqcow_lines[:10]) as server:
        with pytest.raises(LandingWriteError, match="not writable"):
            await run_collector(["xqcow"], blocker / "landing", url=server.url, max_runtime=5)


async def test_disk_full_stops_with_an_error(tmp_path: Path, xqcow_lines):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    target = tmp_path / HOUR_FILE
    target.parent.mkdir(parents=True)
    target.symlink_to("/dev/full")  # every flush of this hour's file fails with ENOSPC
    async with IrcReplayServer(xqcow_lines) as server:
        with pytest.raises(LandingWriteError, match="No space left"):
            await run_collector(["xqcow"], tmp_path, url=server.url, max_runtime=10)


def test_main_exit_code_on_unwritable_folder(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["xqcow"], blocker / "landing", url="irc://127.0.0.1:9", max_runtime=2) == 2


def test_main_fails_when_it_never_connected(tmp_path: Path):
    from ingestion.load import OptOuts

    code = main(["xqcow"], tmp_path / "landing", url="irc://127.0.0.1:9", max_runtime=2,
                optouts=OptOuts)  # fmt: skip
    assert code == 1


@pytest.mark.integration
async def test_sigkill_mid_stream_then_restart(tmp_path: Path, xqcow_lines):
    async with IrcReplayServer(xqcow_lines, replay_from_start=True, chunk=20, tick=0.01) as server:
        cmd = [
            sys.executable,
            "-m",
            "ingestion.collector",
            "--landing-root",
            str(tmp_path),
            "--url",
            server.url,
            "--max-runtime",
            "40",
            "xqcow",
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await wait_for(lambda: len(landed(tmp_path)) >= 1500)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
        sent_before_kill = server.cursor
        raw = (tmp_path / HOUR_FILE).read_bytes()
        flushed = raw.decode().split("\n")[:-1]  # complete lines only
        assert len(flushed) < len(xqcow_lines)
        assert flushed == xqcow_lines[: len(flushed)]  # a clean prefix, nothing duplicated
        assert sent_before_kill - len(flushed) < 500  # lost only the unflushed tail in flight

        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await wait_for(lambda: len(landed(tmp_path)) >= len(xqcow_lines), timeout=30)
            await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 10) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
    final = landed(tmp_path)
    assert_exactly_once(final, xqcow_lines)
    counts = Counter(final)
    assert all(counts[line] == 1 for line in flushed)


def test_a_line_the_tokenizer_refuses_is_landed_for_quarantine(tmp_path: Path) -> None:
    """A channel line IRC tokenizing refuses (here a NUL byte) is kept, under its channel and
    receive time, so the hour's load quarantines it with the reason instead of it vanishing."""
    from datetime import UTC, datetime

    from ingestion.collector import Collector
    from ingestion.events import Reject
    from ingestion.landing import landing_path

    received = datetime(2026, 11, 24, 19, 5, tzinfo=UTC)
    collector = Collector(["xqcow"], tmp_path)
    collector._land("@id=x;tmi-sent-ts=1 :u!u@u PRIVMSG #xqcow :hi\x00there", received)
    collector.sink.close()
    assert collector.stats.lines_written == 1
    landed_bytes = landing_path(tmp_path, "irc", "xqcow", received).read_bytes()
    (item,) = list(parse_lines(landed_bytes.splitlines()))
    assert isinstance(item, Reject) and item.reason


async def test_an_opted_out_chatters_lines_are_never_landed(tmp_path: Path, xqcow_lines):
    from ingestion.events import ChatEvent
    from ingestion.load import OptOuts

    events = [e for e in parse_lines(xqcow_lines) if isinstance(e, ChatEvent)]
    top, _ = Counter(e.user_login for e in events if e.user_login).most_common(1)[0]
    theirs = {e.raw for e in events if top in (e.user_login, e.target_user_login)}
    assert len(theirs) >= 5
    kept = [x for x in xqcow_lines if x not in theirs]

    async with IrcReplayServer(xqcow_lines) as server:
        stats = await collect_until(
            server, tmp_path, len(kept), optouts=lambda: OptOuts(logins=frozenset({top}))
        )
    assert_exactly_once(landed(tmp_path), kept)
    assert stats.opted_out_skipped == len(theirs)


async def test_a_line_with_an_impossible_time_does_not_stop_filtered_capture(
    tmp_path: Path, xqcow_lines
):
    """With an opt-out list, every line is parsed before landing; one the parser refuses as out
    of range is landed for the loader to quarantine, as without the list."""
    from ingestion.load import OptOuts

    bad = "@id=x1;tmi-sent-ts=99999999999999999 :a!a@a.tmi.twitch.tv PRIVMSG #xqcow :hi"
    lines = [*xqcow_lines[:50], bad, *xqcow_lines[50:100]]
    async with IrcReplayServer(lines) as server:
        stats = await collect_until(
            server, tmp_path, 100, optouts=lambda: OptOuts(logins=frozenset({"nobody_here"}))
        )
    assert_exactly_once(landed(tmp_path), xqcow_lines[:100])
    # The odd line too, under its receive time, for the loader to quarantine with a reason.
    elsewhere = [p for p in tmp_path.rglob("*.log") if p != tmp_path / HOUR_FILE]
    assert any(bad in p.read_text() for p in elsewhere) and stats.opted_out_skipped == 0


async def test_an_unreadable_optout_list_does_not_stop_capture(tmp_path: Path, xqcow_lines):
    def unreachable():
        raise ConnectionError("warehouse not reachable")  # the loader still filters later

    async with IrcReplayServer(xqcow_lines) as server:
        stats = await collect_until(
            server, tmp_path, len(xqcow_lines), optouts=unreachable, optout_refresh=0.0
        )
    assert_exactly_once(landed(tmp_path), xqcow_lines)
    assert stats.opted_out_skipped == 0
