"""Chatter opt-out and the right to be forgotten.

`optout` records a login in `raw.chatter_optouts`, with the Twitch user ids seen with it: the live
collector and the importer stop landing that chatter's lines, the partition loader drops any that
landed (by login or user id, so a renamed account stays out; counted as `opted_out`, never
stored, not even as quarantined lines), and the report build hides every login of those ids.

`forget` opts the chatter out and erases what the warehouse holds about them, by their user ids
and under every login those ids were seen with that no other account has used (`account`; a
login several accounts used is refused unless `--user-id` names the account):

* landing files: the lines whose parsed event is by them (IRC prefix nick, `login` tag or
  display name; the author of a JSONL record) or targets them (a timeout, ban or deleted
  message), and unparseable lines naming them; each file is rewritten beside itself, fsynced and
  renamed into place, so a reader sees the old file or the new one;
* `raw.chat_events`: rows they wrote **and** moderation rows targeting them (a ban is data about
  the banned person; channel-level moderation counts already built into marts stay as counts);
* other chatters' events that name them keep the event but lose the fields naming them
  (`ingestion.quotes`): the copy of their text and name Twitch puts in every reply to them, the
  recipient of a gift sub, the first gifter of a gift paid forward, and Twitch's sentence about
  it; in landing files and in `raw.chat_events`;
* `raw.quarantine` rows whose payload names them, Helix user, channel and video rows with
  their login;
* every table in `ml`, `intermediate` and `marts` with a `user_login`, `target_user_login` or
  `login` column, and every such table keyed by `(channel, event_id)` for their messages
  (`ml.message_sentiment`, `ml.message_toxicity`, ...). Staging is views: nothing to delete;
* published report folders (and the built site) with a page naming their login or pseudonym
  (each site lists the pseudonyms its pages name) are deleted. `rebuild` then runs the hours
  that held their events again, and the daily job, which publishes today's site.

Kept, by design: the opt-out row itself (without it their next message would be stored again),
and other chatters' messages that mention them (someone else's words; the report masks the
mention as `[removed]` because the chatter is now opted out). `forget` reports that count as
`mentions_kept` so an operator can decide.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from ingestion.events import ChatEvent, Reject
from ingestion.landing import landing_file_lock, read_lines
from ingestion.load import OptOuts, mark_stale_hours, word_pattern
from ingestion.quotes import without_quotes_of
from ingestion.sources import PARSERS, parser_for
from reports.privacy import NAMED_FILE, pseudonym

if TYPE_CHECKING:
    from dagster import DagsterInstance

SCRUBBED_SCHEMAS = ("ml", "intermediate", "marts")
# Writers of the warehouse (dbt models, ML writers, the report build) hold this advisory lock
# shared while they read and write; an erasure takes it exclusively, so no writer reads a
# chatter's rows before the erasure and writes them back after it.
ERASURE_LOCK = "twitch_warehouse.erasure"
LOGIN_COLUMNS = ("user_login", "target_user_login", "login")
_TEXT_SUFFIXES = (".html", ".json", ".js", ".csv", ".txt", ".md")
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalize_login(user_login: str) -> str:
    login = user_login.strip().removeprefix("@").lower()
    if not login or any(c.isspace() for c in login) or len(login) > 64:
        raise ValueError(f"not a chatter login: {user_login!r}")
    return login


@contextmanager
def erasure_held_off(conn: psycopg.Connection) -> Iterator[None]:
    """Hold off erasures (`forget`) across work that spans transactions, such as building and
    publishing the report site: an erasure waits for it, then finds what it published."""
    conn.execute("select pg_advisory_lock_shared(hashtext(%s))", (ERASURE_LOCK,))
    try:
        yield
    finally:  # after a failed statement the lock goes with the connection instead
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            conn.execute("select pg_advisory_unlock_shared(hashtext(%s))", (ERASURE_LOCK,))


@dataclass(frozen=True)
class Account:
    """A chatter as the warehouse knows them: their Twitch user ids and the logins matched by
    name (an account renamed keeps its id), so an erasure or opt-out follows a rename."""

    logins: tuple[str, ...]
    user_ids: tuple[str, ...] = ()

    def optouts(self) -> OptOuts:
        """The account as the loader's opt-out filter matches it."""
        names = frozenset(self.logins)
        return OptOuts(names, frozenset(self.user_ids), names if self.user_ids else frozenset())


class AmbiguousLogin(ValueError):
    """Several Twitch accounts used the login (Twitch frees a login for reuse)."""


def account(conn: psycopg.Connection, login: str, user_id: str | None = None) -> Account:
    """The user ids seen with `login` (in chat, Helix users or its opt-out), then the other
    logins of those ids that no other account used: a login freed and claimed by someone else
    is never matched by name. AmbiguousLogin when the login itself belongs to several ids and
    `user_id` does not say which of them is meant; then only that account's id and its logins
    no one else used are matched, not the shared login."""
    ids = sorted(
        r[0]
        for r in conn.execute(
            """select user_id from raw.chat_events
               where lower(user_login) = %(login)s and user_id is not null
               union select target_user_id from raw.chat_events
               where lower(target_user_login) = %(login)s and target_user_id is not null
               union select user_id from raw.helix_users where lower(login) = %(login)s
               union select unnest(user_ids) from raw.chatter_optouts
               where user_login = %(login)s""",
            {"login": login},
        )
        if r[0]
    )
    if user_id is not None:
        if ids and user_id not in ids:
            raise ValueError(
                f"{login} was never seen with user id {user_id} (seen with {', '.join(ids)});"
                " nothing was changed"
            )
        ids = [user_id]
    elif len(ids) > 1:
        raise AmbiguousLogin(
            f"{login} was used by {len(ids)} Twitch accounts (user ids {', '.join(ids)}); "
            "nothing was changed: name the account meant with --user-id"
        )
    if not ids:
        return Account((login,))
    params = {"ids": ids}
    names = {r[0] for r in conn.execute(
        """select lower(user_login) from raw.chat_events
           where user_id = any(%(ids)s) and user_login is not null
           union select lower(target_user_login) from raw.chat_events
           where target_user_id = any(%(ids)s) and target_user_login is not null
           union select lower(login) from raw.helix_users where user_id = any(%(ids)s)
           union select user_login from raw.chatter_optouts where user_ids && %(ids)s""",
        params,
    )} | {login}  # fmt: skip
    shared = {r[0] for r in conn.execute(
        """select lower(user_login) from raw.chat_events where lower(user_login) = any(%(names)s)
             and user_id is not null and user_id <> all(%(ids)s)
           union select lower(target_user_login) from raw.chat_events
           where lower(target_user_login) = any(%(names)s)
             and target_user_id is not null and target_user_id <> all(%(ids)s)
           union select lower(login) from raw.helix_users
           where lower(login) = any(%(names)s) and user_id <> all(%(ids)s)""",
        {**params, "names": sorted(names)},
    )}  # fmt: skip
    return Account(tuple(sorted(names - shared)), tuple(ids))


def optout(conn: psycopg.Connection, user_login: str, user_id: str | None = None) -> bool:
    """Add a chatter to the opt-out list, with their user ids; True when they were not on it yet.
    `user_id` names the account meant when several used the login (`account`)."""
    login = normalize_login(user_login)
    with conn.transaction():
        return _record_optout(conn, login, account(conn, login, user_id).user_ids)


def _record_optout(conn: psycopg.Connection, login: str, user_ids: Iterable[str]) -> bool:
    row = conn.execute(
        "insert into raw.chatter_optouts as o (user_login, user_ids) values (%s, %s)"
        " on conflict (user_login) do update set user_ids = array("
        "   select distinct i from unnest(o.user_ids || excluded.user_ids) as i order by 1)"
        " returning xmax = 0",  # inserted, not updated
        (login, sorted(user_ids)),
    ).fetchone()
    return bool(row and row[0])


def forget(
    conn: psycopg.Connection,
    landing_root: Path,
    publish_dir: Path,
    user_login: str,
    *,
    user_id: str | None = None,
    pseudonym_key: str | None = None,
    site_dir: Path | None = None,
) -> dict[str, int]:
    """Opt the chatter out and remove them from the warehouse, landing files and reports.

    Returns what was removed, per place (`raw.chat_events`, `landing_lines`, `report_pages`...).
    `user_id` names the account meant when several used the login (`account`): their rows go by
    that id, and the shared login is matched only where no id tells the accounts apart (report
    pages, which name logins).
    """
    login = normalize_login(user_login)
    if pseudonym_key is None:
        from twitch_warehouse.settings import get_settings

        pseudonym_key = get_settings().pseudonym_secret()
    with conn.transaction():
        who = account(conn, login, user_id)
        logins = list(dict.fromkeys((login, *who.logins)))
        added = [_record_optout(conn, name, who.user_ids) for name in logins]
    counts: dict[str, int] = {"optout_added": int(added[0]), "other_logins": len(logins) - 1}
    # Landing files first: a load running between the two steps (the sensors reload changed or
    # stale hours) then reads the rewritten files, and cannot bring back what the database lost.
    counts.update(forget_in_landing(landing_root, who))
    counts.update(_forget_in_database(conn, who))
    names = [*logins, *(pseudonym(name, pseudonym_key) for name in logins)]
    counts.update(forget_in_reports(publish_dir, names, site_dir))
    return counts


def _forget_in_database(conn: psycopg.Connection, who: Account) -> dict[str, int]:
    counts: dict[str, int] = {}
    # No login of their own (a shared one, erased by id): nothing is matched by name (`~ null`).
    pattern = word_pattern(*who.logins) if who.logins else None
    ids = {"logins": list(who.logins), "ids": list(who.user_ids)}
    with conn.transaction():
        # Writers running now finish first, later ones read what is left (`ERASURE_LOCK`).
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (ERASURE_LOCK,))
        # The loader's lock: a load running now finishes first, the next one sees the opt-out.
        conn.execute("select pg_advisory_xact_lock(hashtext('raw.chat_events'))")
        theirs = sql.SQL("(lower(user_login) = any(%(logins)s) or user_id = any(%(ids)s))")
        targeting = sql.SQL(
            "(lower(target_user_login) = any(%(logins)s) or target_user_id = any(%(ids)s))"
        )
        conn.execute(
            sql.SQL(
                "create temp table forgotten_events on commit drop as"
                " select channel, event_id, sent_at from raw.chat_events where {} or {}"
            ).format(theirs, targeting),
            ids,
        )
        # Counts built from their events (windows, streams, channels) are rebuilt when these
        # hours run again (`rebuild`, or the stale-hours sensor), from the rewritten landing.
        hours = [r[0] for r in conn.execute(
            "select distinct date_bin('1 hour', sent_at, timestamptz '2000-01-01 00:00+00')"
            " from forgotten_events"
        )]  # fmt: skip
        mark_stale_hours(conn, hours)
        counts["hours_marked_stale"] = len(hours)
        for schema, table, columns in _tables(conn):
            where: list[sql.Composable] = [
                sql.SQL("lower({}) = any({})").format(sql.Identifier(c), sql.Placeholder("logins"))
                for c in columns
                if c in LOGIN_COLUMNS
            ]
            if "user_id" in columns:
                where.append(sql.SQL("user_id::text = any(%(ids)s)"))
            if "channel" in columns and "event_id" in columns:
                where.append(
                    sql.SQL(
                        "(channel, event_id) in (select channel, event_id from forgotten_events)"
                    )
                )
            if not where:
                continue
            statement = sql.SQL("delete from {}.{} where ").format(
                sql.Identifier(schema), sql.Identifier(table)
            ) + sql.SQL(" or ").join(where)
            removed = conn.execute(statement, ids).rowcount
            if removed:
                counts[f"{schema}.{table}"] = removed
        counts["raw.chat_events"] = conn.execute(
            sql.SQL("delete from raw.chat_events where {}").format(theirs), ids
        ).rowcount
        counts["raw.chat_events (moderation targeting them)"] = conn.execute(
            sql.SQL("delete from raw.chat_events where {}").format(targeting), ids
        ).rowcount
        # Escape-encoded bytea keeps ASCII as is, so a login is found in any payload.
        counts["raw.quarantine"] = conn.execute(
            "delete from raw.quarantine where lower(encode(payload, 'escape')) ~ %s", (pattern,)
        ).rowcount
        counts["raw.helix_users"] = conn.execute(
            "delete from raw.helix_users where lower(login) = any(%(logins)s)"
            " or user_id = any(%(ids)s)",
            ids,
        ).rowcount
        counts["raw.helix_channels"] = conn.execute(
            "delete from raw.helix_channels where lower(broadcaster_login) = any(%(logins)s)", ids
        ).rowcount
        counts["raw.helix_videos"] = conn.execute(
            "delete from raw.helix_videos where lower(user_login) = any(%(logins)s)"
            " or user_id = any(%(ids)s)",
            ids,
        ).rowcount
        counts["raw.chat_events (others' events naming them)"] = _scrub_quotes(conn, who)
        counts["mentions_kept"] = conn.execute(
            "select count(*) from raw.chat_events where lower(body) ~ %s", (pattern,)
        ).fetchone()[0]  # type: ignore[index]
    return counts


def _scrub_quotes(conn: psycopg.Connection, who: Account) -> int:
    """Remove the chatter from other chatters' events that name them (replies, gifts)."""
    names = {*who.logins, *who.user_ids}
    candidates = conn.execute(
        "select channel, event_id, sent_at, raw_payload from raw.chat_events"
        " where lower(raw_payload) ~ %s",
        (word_pattern(*names),),
    ).fetchall()
    scrubbed = 0
    for channel, event_id, sent_at, raw in candidates:
        kept, gone = without_quotes_of(raw, names)
        if not gone:
            continue
        conn.execute(
            "update raw.chat_events set raw_payload = %s, params = params - %s::text[]"
            " where channel = %s and event_id = %s and sent_at = %s",
            (kept, gone, channel, event_id, sent_at),
        )
        scrubbed += 1
    return scrubbed


def _tables(conn: psycopg.Connection) -> list[tuple[str, str, set[str]]]:
    """Base tables of the scrubbed schemas with their column names."""
    rows = conn.execute(
        """select c.table_schema, c.table_name, array_agg(c.column_name::text)
           from information_schema.columns as c
           join information_schema.tables as t
             on t.table_schema = c.table_schema and t.table_name = c.table_name
           where t.table_type = 'BASE TABLE' and c.table_schema = any(%s)
           group by 1, 2 order by 1, 2""",
        (list(SCRUBBED_SCHEMAS),),
    ).fetchall()
    return [(s, t, set(cols)) for s, t, cols in rows]


# ---------------------------------------------------------------------------------------------
# Landing files
# ---------------------------------------------------------------------------------------------


def _is_theirs(item: ChatEvent | Reject, who: OptOuts) -> bool:
    """What the loader drops for an opted-out chatter, and lines signed with their display name
    (text logs carry no login)."""
    if who.drops(item):
        return True
    return isinstance(item, ChatEvent) and (item.display_name or "").lower() in who.logins


def forget_in_landing(landing_root: Path, who: Account) -> dict[str, int]:
    """Rewrite every landing file that holds the chatter's lines without them (atomically)."""
    removed_lines = scrubbed_quotes = rewritten = 0
    names = {*who.logins, *who.user_ids}
    needles = [n.encode() for n in names]
    theirs = who.optouts()
    for path in _landing_files(landing_root):
        source = path.relative_to(landing_root).parts[0]
        if source not in PARSERS:
            continue
        parse = parser_for(source)
        kept: list[bytes] = []
        dropped = quoting = 0
        with landing_file_lock(path):  # live capture appending to it waits, then reopens
            for line in read_lines(path):
                lower = line.lower()
                if any(n in lower for n in needles):
                    items = list(parse([line]))
                    if any(_is_theirs(item, theirs) for item in items):
                        dropped += 1
                        continue
                    text = line.decode("utf-8", "surrogateescape")
                    scrubbed, gone = without_quotes_of(text, names)
                    if gone:  # someone else's reply or gift naming them
                        line = scrubbed.encode("utf-8", "surrogateescape")
                        quoting += 1
                kept.append(line)
            if dropped or quoting:
                _rewrite(path, kept)
                removed_lines += dropped
                scrubbed_quotes += quoting
                rewritten += 1
    return {
        "landing_lines": removed_lines,
        "landing_quotes_scrubbed": scrubbed_quotes,
        "landing_files_rewritten": rewritten,
    }


def _landing_files(root: Path) -> Iterable[Path]:
    if not root.exists():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name.endswith(
            (".log", ".jsonl", ".log.gz", ".jsonl.gz")
        )
    )  # fmt: skip


def _rewrite(path: Path, lines: list[bytes]) -> None:
    tmp = path.with_name(f".{path.name}.forget")
    data = b"".join(line + b"\n" for line in lines)
    with open(tmp, "wb") as fh:
        fh.write(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# ---------------------------------------------------------------------------------------------
# Published reports
# ---------------------------------------------------------------------------------------------


def _pages_naming(folder: Path, names: list[str]) -> int:
    """How many pages of a built site name the chatter (by login or pseudonym).

    A site lists the pseudonyms its pages name (`reports.privacy.NAMED_FILE`): a folder that
    does not list theirs names them nowhere, whatever words its pages hold. Sites built before
    that list existed are searched word by word.
    """
    named = folder / NAMED_FILE
    if named.is_file() and not set(named.read_text().split()) & set(names):
        return 0
    patterns = [re.compile(word_pattern(n.lower()).encode()) for n in names]
    pages = 0
    for path in folder.rglob("*"):
        # The site's own assets (scripts, styles) name no chatter; the folder's path may hold
        # any name, so only the part inside it counts.
        inside = path.relative_to(folder).parts
        if not path.is_file() or path.suffix not in _TEXT_SUFFIXES or "assets" in inside:
            continue
        text = path.read_bytes().lower()
        if any(p.search(text) for p in patterns):
            pages += 1
    return pages


def site_names(site_dir: Path, login: str, pseudonym_key: str | None = None) -> bool:
    """Whether a built report site shows the chatter, by login or pseudonym."""
    if not site_dir.is_dir():
        return False
    if pseudonym_key is None:
        from twitch_warehouse.settings import get_settings

        pseudonym_key = get_settings().pseudonym_secret()
    login = normalize_login(login)
    return _pages_naming(site_dir, [login, pseudonym(login, pseudonym_key)]) > 0


def forget_in_reports(
    publish_dir: Path, names: list[str], site_dir: Path | None = None
) -> dict[str, int]:
    """Delete published dated folders (and the built site) with a page naming the chatter.

    History cannot be re-rendered from scrubbed marts for past days, so those folders go;
    `latest` is repointed at the newest folder left (or removed). `rebuild` publishes today.
    """
    pages = folders = 0
    if publish_dir.exists():
        for folder in sorted(p for p in publish_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            found = _pages_naming(folder, names)
            if found:
                pages += found
                folders += 1
                shutil.rmtree(folder)
        link = publish_dir / "latest"
        if link.is_symlink() and not link.exists():
            dated = sorted(
                p.name
                for p in publish_dir.iterdir()
                if p.is_dir() and not p.is_symlink() and _DATED.match(p.name)
            )
            link.unlink()
            if dated:
                link.symlink_to(dated[-1])
    if site_dir is not None and site_dir.exists():
        found = _pages_naming(site_dir, names)
        if found:
            pages += found
            folders += 1
            shutil.rmtree(site_dir)
    return {"report_pages": pages, "report_folders_removed": folders}


def rebuild(instance: DagsterInstance | None = None) -> list[tuple[datetime, datetime]]:
    """After an erasure or opt-out: run the hours it marked stale again, then the daily job
    (stream and channel marts, daily models, the report site, published for today), through
    Dagster as the schedule would. Returns the hour ranges run again."""
    from orchestration.runner import run_daily, run_stale_hours
    from twitch_warehouse.runtime import prepare_environment

    prepare_environment()
    rerun = run_stale_hours(instance=instance)
    run_daily(instance=instance)
    return rerun
