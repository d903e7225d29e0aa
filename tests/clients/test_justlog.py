"""justlog/rustlog client against a loopback log server serving real #xqcow lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ingestion.clients.justlog import JustlogClient, JustlogError, line_time, parse_timestamp
from ingestion.irc import parse_lines
from ingestion.landing import landing_path
from tests.servers.fake_justlog import FakeJustlog, shift_hours

H = [datetime(2019, 9, 15, h, tzinfo=UTC) for h in range(24)]


@pytest.fixture
def spread(xqcow_lines: list[str]) -> list[str]:
    return shift_hours(xqcow_lines, 1000)  # hours 00..04 of 2019-09-15, 1,000 lines each


@pytest.fixture
def fake(httpserver: HTTPServer, spread: list[str]) -> FakeJustlog:
    return FakeJustlog(httpserver, "xqcow", spread)


@pytest.mark.parametrize("flavor", ["justlog", "rustlog"])
@pytest.mark.parametrize("style", ["rfc3339", "unix"])
async def test_fetch_exactly_the_requested_hours(fake, spread, flavor, style, tmp_path: Path):
    async with JustlogClient(fake.url, flavor=flavor, range_time_style=style) as client:
        result = await client.fetch_hours("xqcow", H[1], H[3], landing_root=tmp_path)
    assert list(result.lines_by_hour) == [H[1], H[2]]
    assert result.lines_by_hour[H[1]] == spread[1000:2000]
    assert result.lines_by_hour[H[2]] == spread[2000:3000]
    assert result.landed == 2000 and not result.untimed
    if flavor == "justlog":
        assert result.outside == 3000 and fake.requests == ["/channel/xqcow/2019/9/15?raw="]
    path = landing_path(tmp_path, "irc", "xqcow", H[1])
    events = list(parse_lines(path.read_bytes().splitlines()))
    assert len(events) == 1000 and all(H[1] <= e.sent_at < H[2] for e in events)


async def test_refetch_does_not_duplicate_landed_lines(fake, tmp_path: Path):
    async with JustlogClient(fake.url) as client:
        await client.fetch_hours("xqcow", H[0], H[1], landing_root=tmp_path)
        again = await client.fetch_hours("xqcow", H[0], H[1], landing_root=tmp_path)
    assert again.landed == 0 and again.duplicates == 1000
    assert len(landing_path(tmp_path, "irc", "xqcow", H[0]).read_text().splitlines()) == 1000


async def test_retries_5xx_and_timeouts(fake, spread):
    fake.faults = [500, 502]
    async with JustlogClient(fake.url, backoff_base=0.01) as client:
        result = await client.fetch_hours("xqcow", H[4], H[5])
    assert result.lines_by_hour[H[4]] == spread[4000:]
    assert len(fake.requests) == 3
    fake.stall = 0.6  # one stalled request; later attempts have seconds of margin under load
    async with JustlogClient(fake.url, backoff_base=0.01, timeout=0.5) as client:
        assert (await client.fetch_hours("xqcow", H[0], H[1])).lines == 1000


async def test_gives_up_with_a_clear_error(fake):
    fake.faults = [503] * 3
    async with JustlogClient(fake.url, backoff_base=0.01, max_attempts=3) as client:
        with pytest.raises(JustlogError, match=r"GET /channel/xqcow/2019/9/15 failed after 3"):
            await client.fetch_hours("xqcow", H[0], H[1])


async def test_missing_day_is_empty_and_listing(fake):
    async with JustlogClient(fake.url) as client:
        assert await client.day_lines("xqcow", date(2019, 9, 16)) == []
        assert await client.available_logs("xqcow") == [{"year": "2019", "month": "9", "day": "15"}]
        assert (await client.channels())[0]["name"] == "xqcow"
        messages = await client.day_messages("xqcow", date(2019, 9, 15))
    assert len(messages) == 5000
    assert parse_timestamp(messages[0]["timestamp"]) == line_time(messages[0]["raw"])


def test_a_line_is_timed_by_its_send_time_whatever_the_tag_order():
    """Recent-messages services add `rm-received-ts`, often first and up to seconds after the
    send: a line sent at 20:59:59.950 belongs to hour 20, where the parser will put it."""
    sent = int(datetime(2019, 9, 15, 20, 59, 59, 950000, tzinfo=UTC).timestamp() * 1000)
    line = (f"@rm-received-ts={sent + 100};historical=1;id=a1;room-id=1;tmi-sent-ts={sent}"
            " :u!u@u.tmi.twitch.tv PRIVMSG #nymn :late in the hour")  # fmt: skip
    (event,) = parse_lines([line])
    assert line_time(line) == event.sent_at == datetime.fromtimestamp(sent / 1000, UTC)
    received_only = line.replace(f";tmi-sent-ts={sent}", "")
    assert line_time(received_only) == datetime.fromtimestamp((sent + 100) / 1000, UTC)


def test_timestamp_styles():
    expected = datetime(2019, 9, 15, 0, 0, 0, 501000, tzinfo=UTC)
    assert parse_timestamp("2019-09-15T00:00:00.501Z") == expected
    assert parse_timestamp("2019-09-15T00:00:00.501000000+00:00") == expected
    assert parse_timestamp(1568505600501) == expected
    assert parse_timestamp("1568505600") == expected.replace(microsecond=0)
    # An offset after a long fraction: the fraction is cut, the offset kept.
    assert parse_timestamp("2019-09-15T02:00:00.501000000+02:00") == expected
    assert parse_timestamp("2019-09-15T02:00:00.501+02:00") == expected


async def test_lines_without_a_send_time_are_landed_for_quarantine(fake, tmp_path: Path):
    """A log line without `tmi-sent-ts` cannot be placed in time: it lands in the range's first
    hour, whose load quarantines it with the reason, instead of being dropped after a warning."""
    from ingestion.events import Reject

    untimed = "@id=u1;room-id=1 :u!u@u PRIVMSG #xqcow :no time on me"
    fake.untimed = [untimed]
    async with JustlogClient(fake.url) as client:
        result = await client.fetch_hours("xqcow", H[1], H[2], landing_root=tmp_path)
    assert result.untimed == [untimed] and result.landed == 1001
    landed = landing_path(tmp_path, "irc", "xqcow", H[1]).read_bytes().splitlines()
    rejects = [item for item in parse_lines(landed) if isinstance(item, Reject)]
    assert len(rejects) == 1 and "tmi-sent-ts" in rejects[0].reason
