"""`twitch-warehouse optout USER` and `forget USER` on a small loaded warehouse (no Dagster)."""

from __future__ import annotations

import gzip
import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from ingestion.events import ChatEvent
from ingestion.generator import ChatGenerator, iter_lines_by_hour
from ingestion.importer import import_paths
from ingestion.landing import HourlyWriter, files_for_window, read_lines
from ingestion.load import load_partition, stale_hours
from ingestion.sources import parser_for
from tests.locks import wait_until_blocked
from twitch_warehouse.cli import app
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 1, 18, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)
GQL_VOD = "vod-chat-gql/arypie/2021-02-12_04-22-38_910716790"
EVENTSUB_VECTORS = "irc-eventsub-vectors/lib/twitch-eventsub-ws/tests/resources/messages"


def test_optout_and_forget_commands(migrated: PgUrl) -> None:
    settings = get_settings()
    chat = ChatGenerator(["alpha"], HOUR, 1, seed=9, messages_per_minute=10).generate()
    with HourlyWriter(settings.landing_dir, "irc") as writer:
        for channel, hour, line in iter_lines_by_hour(chat):
            writer.write(channel, hour, line)
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        login, messages = conn.execute(
            "select user_login, count(*) from raw.chat_events where event_type = 'message'"
            " group by 1 order by 2 desc, 1 limit 1"
        ).fetchone()  # type: ignore[misc]

    runner = CliRunner()
    done = runner.invoke(app, ["optout", "Some_Chatter"])
    assert done.exit_code == 0, done.output
    assert "some_chatter opted out" in done.output
    assert "already" in runner.invoke(app, ["optout", "some_chatter"]).output

    done = runner.invoke(app, ["forget", login, "--no-rebuild"])
    assert done.exit_code == 0, done.output
    assert f"Forgotten: {login}" in done.output and "raw.chat_events" in done.output
    assert f"{messages:,}" in done.output  # the authored rows, counted
    with psycopg.connect(migrated.libpq()) as conn:
        left = conn.execute(
            "select count(*) from raw.chat_events where user_login = %s or target_user_login = %s",
            (login, login),
        ).fetchone()[0]  # type: ignore[index]
        optouts = {r[0] for r in conn.execute("select user_login from raw.chatter_optouts")}
        reload = load_partition(
            conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT)
        )
    assert left == 0 and optouts == {"some_chatter", login}
    assert reload.opted_out == 0  # the landing files no longer hold their lines either
    assert runner.invoke(app, ["forget", "two words"]).exit_code != 0


def _land(landing: Path, hour: datetime, lines: list[str]) -> None:
    with HourlyWriter(landing, "irc") as writer:
        for line in lines:
            writer.write("alpha", hour, line)


def _privmsg(event_id: str, at: datetime, user_id: str, login: str, text: str) -> str:
    ms = int(at.timestamp() * 1000)
    return (
        f"@id={event_id};tmi-sent-ts={ms};user-id={user_id};login={login} "
        f":{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #alpha :{text}"
    )


def test_an_opted_out_chatter_stays_out_after_renaming(migrated: PgUrl) -> None:
    """Opt-out and forget follow the Twitch user id: a new login does not bring them back, and
    forgetting either name erases the messages sent under both."""
    from twitch_warehouse.privacy import forget, optout

    settings = get_settings()
    minute = timedelta(minutes=1)
    _land(settings.landing_dir, HOUR, [
        _privmsg("m1", HOUR + minute, "777", "old_name", "hello from my old name"),
        _privmsg("m2", HOUR + 2 * minute, "888", "bystander", "hi old_name").replace(
            "login=bystander",  # a reply: Twitch copies the parent's author and text into it
            "login=bystander;reply-parent-msg-id=m1;reply-parent-user-login=old_name;"
            "reply-parent-user-id=777;reply-parent-msg-body=hello\\sfrom\\smy\\sold\\sname",
        ),
        _privmsg("m3", HOUR + 3 * minute, "999", "quitter", "bye"),
        (  # a gift sub the bystander gave them: the gift stays, its recipient goes
            f"@id=g1;tmi-sent-ts={int((HOUR + 4 * minute).timestamp() * 1000)};user-id=888;"
            "login=bystander;msg-id=subgift;msg-param-recipient-user-name=old_name;"
            "msg-param-recipient-id=777;msg-param-recipient-display-name=Old_Name;"
            "msg-param-sub-plan=1000;system-msg=bystander\\sgifted\\sa\\ssub\\sto\\sOld_Name!"
            " :tmi.twitch.tv USERNOTICE #alpha"
        ),
    ])  # fmt: skip
    _land(settings.landing_dir, NEXT, [
        _privmsg("m4", NEXT + minute, "777", "new_name", "renamed, still me"),
        _privmsg("m5", NEXT + 2 * minute, "999", "quitter_v2", "back under a new name"),
    ])  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        assert optout(conn, "quitter")  # seen once, with user id 999
        later = NEXT + timedelta(hours=1)
        renamed = load_partition(
            conn, NEXT, later, files_for_window(settings.landing_dir, NEXT, later)
        )
        assert renamed.opted_out == 1  # quitter_v2, by user id
        stored = {r[0] for r in conn.execute("select user_login from raw.chat_events")}
        assert stored == {"old_name", "bystander", "quitter", "new_name"}

        conn.execute("set timezone to 'Asia/Kolkata'")  # hours are UTC hours whatever the zone
        counts = forget(
            conn, settings.landing_dir, settings.report_publish_dir, "new_name",
            pseudonym_key="k",
        )  # fmt: skip
        stale = {hour for hour, _ in stale_hours(conn)}
        stored = {r[0] for r in conn.execute("select user_login from raw.chat_events")}
        optouts = dict(conn.execute("select user_login, user_ids from raw.chatter_optouts"))
        reply = conn.execute(
            "select raw_payload, params, reply_parent_id from raw.chat_events where event_id = 'm2'"
        ).fetchone()
        gift = conn.execute(
            "select raw_payload, params from raw.chat_events where event_id = 'g1'"
        ).fetchone()
    assert counts["other_logins"] == 1 and counts["raw.chat_events"] == 2
    assert stale == {HOUR, NEXT} and counts["hours_marked_stale"] == 2
    assert counts["landing_lines"] == 2 and counts["mentions_kept"] == 1
    assert counts["raw.chat_events (others' events naming them)"] == 2
    assert counts["landing_quotes_scrubbed"] == 2
    assert stored == {"bystander", "quitter"}
    # The bystander's reply stays, without the words and name it quoted.
    assert reply is not None and reply[2] == "m1" and reply[1] == {"reply-parent-msg-id": "m1"}
    assert "old\\sname" not in reply[0] and "777" not in reply[0]
    assert gift is not None and gift[1] == {"msg-param-sub-plan": "1000"}
    assert "old_name" not in gift[0].lower() and "777" not in gift[0]
    landed = b"".join(p.read_bytes() for p in settings.landing_dir.rglob("*.log*"))
    assert b"hi old_name" in landed and b"old\\sname" not in landed and b"Old_Name" not in landed
    assert b"msg-id=subgift" in landed
    assert optouts == {"quitter": ["999"], "old_name": ["777"], "new_name": ["777"]}


def test_forget_never_follows_a_login_another_account_took(migrated: PgUrl) -> None:
    """Twitch frees a login for reuse. Account 111 chatted as `alice`, then renamed itself
    `alice_old`; account 222 took `alice`. Forgetting `alice_old` erases account 111 under both
    names and leaves the new `alice` alone; forgetting `alice` is refused: it names two people."""
    from twitch_warehouse.privacy import AmbiguousLogin, forget

    settings = get_settings()
    minute = timedelta(minutes=1)
    _land(settings.landing_dir, HOUR, [
        _privmsg("m1", HOUR + minute, "111", "alice", "my first name"),
        _privmsg("m2", HOUR + 2 * minute, "111", "alice_old", "renamed"),
        _privmsg("m3", HOUR + 3 * minute, "222", "alice", "the new alice"),
    ])  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        with pytest.raises(AmbiguousLogin, match="111, 222"):
            forget(conn, settings.landing_dir, settings.report_publish_dir, "alice",
                   pseudonym_key="k")  # fmt: skip
        conn.rollback()
        refused = CliRunner().invoke(app, ["forget", "alice", "--no-rebuild"])
        assert refused.exit_code == 2 and "2 Twitch accounts" in refused.output
        assert conn.execute("select count(*) from raw.chatter_optouts").fetchone() == (0,)

        counts = forget(conn, settings.landing_dir, settings.report_publish_dir, "alice_old",
                        pseudonym_key="k")  # fmt: skip
        left = conn.execute("select event_id, user_id from raw.chat_events").fetchall()
        optouts = dict(conn.execute("select user_login, user_ids from raw.chatter_optouts"))
    assert counts["raw.chat_events"] == 2 and counts["other_logins"] == 0
    assert left == [("m3", "222")] and optouts == {"alice_old": ["111"]}
    landed = b"".join(p.read_bytes() for p in settings.landing_dir.rglob("*.log"))
    assert b"the new alice" in landed and b"my first name" not in landed


def test_forget_by_user_id_erases_one_owner_of_a_shared_login(migrated: PgUrl) -> None:
    """`--user-id` names which owner of a reused login is meant: account 111 is erased under
    its id (and `alice_old`, which only it used) while account 222, which took `alice`, keeps
    its rows, and its next lines still load; account 111's next line under `alice` does not."""
    from twitch_warehouse.privacy import forget

    settings = get_settings()
    minute = timedelta(minutes=1)
    _land(settings.landing_dir, HOUR, [
        _privmsg("m1", HOUR + minute, "111", "alice", "my first name"),
        _privmsg("m2", HOUR + 2 * minute, "111", "alice_old", "renamed"),
        _privmsg("m3", HOUR + 3 * minute, "222", "alice", "the new alice"),
        _privmsg("m4", HOUR + 4 * minute, "333", "bob", "bystander"),
    ])  # fmt: skip
    _land(settings.landing_dir, NEXT, [
        _privmsg("m5", NEXT + minute, "222", "alice", "still the new alice"),
        _privmsg("m6", NEXT + 2 * minute, "111", "alice", "the old alice, back"),
    ])  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        wrong = CliRunner().invoke(app, ["forget", "alice", "--user-id", "333", "--no-rebuild"])
        assert wrong.exit_code == 2 and "never seen with user id 333" in wrong.output
        counts = forget(conn, settings.landing_dir, settings.report_publish_dir, "alice",
                        user_id="111", pseudonym_key="k")  # fmt: skip
        left = conn.execute("select event_id from raw.chat_events order by 1").fetchall()
        optouts = dict(conn.execute("select user_login, user_ids from raw.chatter_optouts"))
        later = NEXT + timedelta(hours=1)
        _land(settings.landing_dir, later, [  # lands after the erasure
            _privmsg("m7", later + minute, "222", "alice", "the new alice again"),
            _privmsg("m8", later + 2 * minute, "111", "alice", "the old alice, again"),
        ])  # fmt: skip
        loaded = [
            load_partition(conn, start, end, files_for_window(settings.landing_dir, start, end))
            for start, end in ((NEXT, later), (later, later + timedelta(hours=1)))
        ]
        newer = conn.execute(
            "select event_id, user_id from raw.chat_events where sent_at >= %s order by 1", (NEXT,)
        ).fetchall()
    assert counts["raw.chat_events"] == 2 and counts["other_logins"] == 1
    assert left == [("m3",), ("m4",)]
    assert optouts == {"alice": ["111"], "alice_old": ["111"]}
    landed = b"".join(p.read_bytes() for p in settings.landing_dir.rglob("*.log"))
    assert b"the new alice" in landed and b"my first name" not in landed
    assert b"the old alice, back" not in landed  # forget scrubbed the later hour's file too
    # The loader drops the erased account by id, not the login's new owner.
    assert [r.opted_out for r in loaded] == [0, 1]
    assert newer == [("m5", "222"), ("m7", "222")]


def test_forget_by_user_id_with_no_login_of_its_own_matches_nothing_by_name(
    migrated: PgUrl,
) -> None:
    """Account 111 only ever used the shared `alice`: it is erased by id, and nothing is matched
    by name, so other quarantined lines and mentions stay."""
    from twitch_warehouse.privacy import forget

    settings = get_settings()
    minute = timedelta(minutes=1)
    _land(settings.landing_dir, HOUR, [
        _privmsg("m1", HOUR + minute, "111", "alice", "the old alice"),
        _privmsg("m2", HOUR + 2 * minute, "222", "alice", "the new alice"),
        _privmsg("m3", HOUR + 3 * minute, "333", "bob", "hello, everyone!"),
        "this line is not IRC at all!",
    ])  # fmt: skip
    with psycopg.connect(migrated.libpq()) as conn:
        load_partition(conn, HOUR, NEXT, files_for_window(settings.landing_dir, HOUR, NEXT))
        quarantined = conn.execute("select count(*) from raw.quarantine").fetchone()
        counts = forget(conn, settings.landing_dir, settings.report_publish_dir, "alice",
                        user_id="111", pseudonym_key="k")  # fmt: skip
        left = conn.execute("select event_id from raw.chat_events order by 1").fetchall()
        assert conn.execute("select count(*) from raw.quarantine").fetchone() == quarantined
    assert quarantined == (1,) and counts["raw.quarantine"] == 0
    assert counts["mentions_kept"] == 0 and left == [("m2",), ("m3",)]


def test_forget_waits_for_a_report_build_then_removes_what_it_published(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """A report build holds erasures off until it has published: `forget` then finds the page."""
    from twitch_warehouse.privacy import erasure_held_off, forget

    published = tmp_path / "published" / "2026-11-01"
    with psycopg.connect(migrated.libpq()) as builder, erasure_held_off(builder):
        done: dict[str, int] = {}
        erase = threading.Thread(target=lambda: done.update(_forget(migrated, tmp_path, forget)))
        erase.start()
        wait_until_blocked(migrated, erase)  # waiting for the build
        published.mkdir(parents=True)  # the build publishes a page naming the chatter
        (published / "index.html").write_text("<td>zed_chatter</td>")
    erase.join(timeout=60)
    assert not erase.is_alive() and done["report_folders_removed"] == 1
    assert not published.exists()


def _forget(url: PgUrl, tmp_path: Path, forget: Callable[..., dict[str, int]]) -> dict[str, int]:
    with psycopg.connect(url.libpq()) as conn:
        return forget(conn, tmp_path / "landing", tmp_path / "published", "zed_chatter",
                      pseudonym_key="k")  # fmt: skip


def test_forget_finds_pages_whatever_folder_holds_the_reports(tmp_path: Path) -> None:
    from twitch_warehouse.privacy import forget_in_reports

    publish_dir = tmp_path / "assets" / "published"  # a home folder may be named anything
    page = publish_dir / "2026-11-01" / "streams" / "s.html"
    page.parent.mkdir(parents=True)
    page.write_text("<td>zed_chatter</td>")
    (publish_dir / "2026-11-01" / "assets").mkdir()
    (publish_dir / "2026-11-01" / "assets" / "site.js").write_text("// zed_chatter")
    assert forget_in_reports(publish_dir, ["zed_chatter"]) == {
        "report_pages": 1, "report_folders_removed": 1}  # fmt: skip
    assert not page.exists()


def test_forget_removes_only_the_days_whose_pages_name_the_chatter(tmp_path: Path) -> None:
    """A login that is also a word (`stream`) is matched by the site's list of names, not by
    every page that says "stream"; days published before that list existed are searched."""
    from reports.privacy import NAMED_FILE, pseudonym
    from twitch_warehouse.privacy import forget_in_reports

    alias = pseudonym("stream", "k")
    page = "<h1>Tonight's stream</h1>"
    days = {  # day: (page, the names it lists, or None for a day published without a list)
        "2026-11-01": (page, [pseudonym("other", "k")]),
        "2026-11-02": (page + f"<td>{alias}</td>", [alias]),
        "2026-11-03": (page, None),
    }
    for day, (html, named) in days.items():
        (tmp_path / day).mkdir()
        (tmp_path / day / "index.html").write_text(html)
        if named is not None:
            (tmp_path / day / NAMED_FILE).write_text("\n".join(named) + "\n")
    (tmp_path / "latest").symlink_to("2026-11-03")

    assert forget_in_reports(tmp_path, ["stream", alias])["report_folders_removed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_symlink()) == ["2026-11-01"]
    assert (tmp_path / "latest").resolve().name == "2026-11-01"


def _events_by_source(landing: Path) -> dict[str, list[ChatEvent]]:
    """Every event in every landing file, parsed as the loader would (gzip or not)."""
    found: dict[str, list[ChatEvent]] = {}
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        source = path.relative_to(landing).parts[0]
        parsed = parser_for(source)(read_lines(path))
        found.setdefault(source, []).extend(e for e in parsed if isinstance(e, ChatEvent))
    return found


def test_forget_reaches_every_landing_format_raw_table_and_published_day(
    migrated: PgUrl, tmp_path: Path
) -> None:
    """Real chat in five landing formats (one file gzipped, as kept hours are), quarantine and
    Helix rows, and published days: each format's busiest chatter is forgotten, and everyone
    else's events, rows and days are left as they were."""
    from reports.privacy import NAMED_FILE, pseudonym
    from twitch_warehouse.privacy import forget

    root, landing = get_settings().chat_data_dir, tmp_path / "landing"
    normvio = tmp_path / "normvio.jsonl.gz"
    with gzip.open(root / "moderation-normvio/normvio_dev.jsonl.gz", "rt") as fh:
        normvio.write_bytes(gzip.compress("".join(next(fh) for _ in range(20)).encode()))
    imported = import_paths([
        root / "irc-raw-xqcow/channel.txt.gz", root / GQL_VOD,
        root / "rechat-v5-northernlion/1087079172.json", normvio,
    ], landing)  # fmt: skip
    assert not [f.error for f in imported.files if f.error]
    vector = root / EVENTSUB_VECTORS / "channel.chat.message.json"
    record = json.loads(vector.read_text())
    other = json.loads(vector.read_text())
    other["payload"]["event"].update(
        message_id="other-1",
        chatter_user_id="1",
        chatter_user_login="someone_else",
        chatter_user_name="Someone_Else",
    )
    sent_at = datetime.fromisoformat(record["metadata"]["message_timestamp"][:19] + "+00:00")
    with HourlyWriter(landing, "eventsub") as writer:
        for each in (record, other):
            writer.write("streamer", sent_at, json.dumps(each))
    (irc_file,) = landing.glob("irc/**/*.log")
    irc_file.with_name(irc_file.name + ".gz").write_bytes(gzip.compress(irc_file.read_bytes()))
    irc_file.unlink()

    before = _events_by_source(landing)
    assert set(before) == {"irc", "gql", "rechat_v5", "normvio", "eventsub"}
    victims = {
        source: Counter(e.user_login for e in events if e.user_login).most_common(1)[0][0]
        for source, events in before.items()
    }
    gone = set(victims.values())

    def key(e: ChatEvent) -> tuple[str, str, str]:
        return (e.source, e.channel, e.event_id)

    def theirs(e: ChatEvent) -> bool:
        return bool({e.user_login, e.target_user_login} & gone)

    kept = {key(e) for events in before.values() for e in events if not theirs(e)}

    publish = tmp_path / "published"
    for day, named in (("2026-11-01", "x"), ("2026-11-02", "y"), ("2026-11-03", victims["gql"])):
        (publish / day).mkdir(parents=True)
        (publish / day / "index.html").write_text(f"<td>{pseudonym(named, 'k')}</td>")
        (publish / day / NAMED_FILE).write_text(pseudonym(named, "k") + "\n")
    (publish / "latest").symlink_to("2026-11-03")

    with psycopg.connect(migrated.libpq()) as conn:
        for i, who in enumerate([victims["irc"], "someone_else"]):
            conn.execute(
                "insert into raw.quarantine (partition_start, source, landing_file, line_no,"
                " payload, reason) values (%s, 'irc', 'f.log', %s, %s, 'test')",
                (HOUR, i, f"garbage naming {who}!".encode()),
            )
            conn.execute(
                "insert into raw.helix_users (user_id, login) values (%s, %s)", (f"u{i}", who)
            )
            conn.execute(
                "insert into raw.helix_videos (video_id, user_id, user_login, video_type)"
                " values (%s, %s, %s, 'archive')",
                (f"v{i}", f"u{i}", who),
            )
        conn.commit()
        for login in sorted(gone):
            forget(conn, landing, publish, login, pseudonym_key="k")
        left = {
            table: [r[0] for r in conn.execute(query)]
            for table, query in {
                "quarantine": "select convert_from(payload, 'utf8') from raw.quarantine",
                "helix_users": "select login from raw.helix_users",
                "helix_videos": "select user_login from raw.helix_videos",
            }.items()
        }

    after = _events_by_source(landing)
    assert not [e for events in after.values() for e in events if theirs(e)]
    assert {key(e) for events in after.values() for e in events} == kept
    assert list(landing.glob("irc/**/*.log.gz"))  # rewritten in place, still compressed
    assert left == {
        "quarantine": ["garbage naming someone_else!"],
        "helix_users": ["someone_else"],
        "helix_videos": ["someone_else"],
    }
    assert sorted(p.name for p in publish.iterdir()) == ["2026-11-01", "2026-11-02", "latest"]
    assert (publish / "latest").resolve().name == "2026-11-02"  # the newest day left


def test_site_names_tells_whether_a_built_site_shows_the_chatter(tmp_path: Path) -> None:
    from reports.privacy import NAMED_FILE, pseudonym
    from twitch_warehouse.privacy import site_names

    site = tmp_path / "site"
    assert not site_names(site, "zed_chatter", "k")  # nothing built yet
    site.mkdir()
    (site / "index.html").write_text("<p>zed_chatter's stream</p>")
    (site / NAMED_FILE).write_text(pseudonym("someone", "k") + "\n")
    assert not site_names(site, "zed_chatter", "k")  # the word, but not a chatter it names
    (site / NAMED_FILE).write_text(pseudonym("zed_chatter", "k") + "\n")
    (site / "index.html").write_text(f"<td>{pseudonym('zed_chatter', 'k')}</td>")
    assert site_names(site, "@Zed_Chatter", "k")
