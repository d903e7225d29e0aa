"""Emote catalog snapshots: landed as dated JSON files, loaded into raw.emote_catalog_snapshots.

A snapshot is one provider's set (global or one channel's) as it was on a date; messages are
matched against the snapshot valid when they were sent. Fetchers (`ingestion.clients.emotes`)
and imports of historical sets both land `EmoteSnapshot.as_record()` JSON here:
`<landing>/catalogs/<YYYY-MM-DD>/<provider>.<scope>.<channel or _global>.json`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingestion.clients.emotes import EmoteSnapshot

SetKey = tuple[date, str, str, str]  # (snapshot date, provider, scope, channel or "")


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    snapshots: int
    emotes: int
    # Snapshots that change which emotes were valid on their date (new sets, changed sets).
    changed: tuple[SetKey, ...] = ()


def snapshot_path(root: Path, snapshot: EmoteSnapshot) -> Path:
    channel = snapshot.channel or "_global"
    name = f"{snapshot.provider}.{snapshot.scope}.{channel}.json"
    return root / "catalogs" / snapshot.snapshot_date.isoformat() / name


def land_snapshot(root: Path, snapshot: EmoteSnapshot) -> Path:
    """Write one snapshot atomically (temp file + rename); landing the same one again is a no-op."""
    path = snapshot_path(root, snapshot)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot.as_record(), sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_snapshots(root: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((root / "catalogs").glob("*/*.json")):
        yield json.loads(path.read_text(encoding="utf-8"))


_SET_AS_OF = """
    select emote_id, code from raw.emote_catalog_snapshots
    where provider = %(provider)s and scope = %(scope)s and channel = %(channel)s
        and snapshot_date = (
            select max(snapshot_date) from raw.emote_catalog_snapshots
            where provider = %(provider)s and scope = %(scope)s and channel = %(channel)s
                and snapshot_date <= %(date)s)
"""


def load_snapshots(conn: psycopg.Connection, records: Iterable[dict[str, Any]]) -> CatalogLoad:
    """Replace each snapshot's rows (by date, provider, scope, channel) in one transaction.

    A snapshot is `changed` when the set valid on its date differs from before the load: a set
    seen for the first time, or a day whose emotes differ from the snapshot in force until then
    (a daily fetch that finds the same emotes, or none, changes nothing)."""
    snapshots = emotes = 0
    changed: list[SetKey] = []
    with conn.transaction():
        for record in records:
            key = (date.fromisoformat(record["snapshot_date"]), record["provider"],
                   record["scope"], record["channel"] or "")  # fmt: skip
            as_of: dict[str, Any] = dict(zip(("date", "provider", "scope", "channel"), key,
                                             strict=True))  # fmt: skip
            before = set(conn.execute(_SET_AS_OF, as_of).fetchall())
            conn.execute(
                "delete from raw.emote_catalog_snapshots where snapshot_date = %s"
                " and provider = %s and scope = %s and channel = %s",
                key,
            )
            seen: set[str] = set()
            with conn.cursor().copy(
                "copy raw.emote_catalog_snapshots"
                " (snapshot_date, provider, scope, channel, emote_id, code, payload) from stdin"
            ) as copy:
                for emote in record["emotes"]:
                    if emote["emote_id"] in seen:  # providers occasionally list an emote twice
                        continue
                    seen.add(emote["emote_id"])
                    copy.write_row((*key, emote["emote_id"], emote["code"], Jsonb(emote)))
                    emotes += 1
            snapshots += 1
            # An empty set has no rows, so it changes nothing (dbt cannot see it either).
            if set(conn.execute(_SET_AS_OF, as_of).fetchall()) != before:
                changed.append(key)
        conn.execute("analyze raw.emote_catalog_snapshots")
    return CatalogLoad(snapshots, emotes, tuple(changed))


def hours_matched_against(conn: psycopg.Connection, changed: Iterable[SetKey]) -> list[datetime]:
    """Built hours whose emote matching used what `changed` snapshots replaced: hours with chat
    (in the set's channel, for a channel set) within the validity window in force on each
    snapshot's date, as dbt's `int_emote_catalog_validity` view defines it (a view, so it
    already reflects the snapshots just loaded)."""
    built = conn.execute(
        "select to_regclass('intermediate.int_emote_catalog_validity') is not null"
        " and to_regclass('intermediate.int_chat_window_activity') is not null"
    ).fetchone()
    if not (built and built[0]):
        return []  # nothing was built yet
    hours: set[datetime] = set()
    for snapshot_date, provider, scope, channel in changed:
        rows = conn.execute(
            """
            with validity as (
                select distinct valid_from, valid_to
                from intermediate.int_emote_catalog_validity
                where provider = %(provider)s and scope = %(scope)s and channel = %(channel)s
                    and valid_from <= %(date)s::timestamp at time zone 'UTC'
                    and valid_to > %(date)s::timestamp at time zone 'UTC'
            )
            select distinct date_trunc('hour', act.window_start_at, 'UTC')
            from intermediate.int_chat_window_activity as act, validity
            where act.window_seconds = 300
                and act.window_start_at >= validity.valid_from
                and act.window_start_at < validity.valid_to
                and (%(channel)s = '' or act.channel = %(channel)s)
            """,
            {"date": snapshot_date, "provider": provider, "scope": scope, "channel": channel},
        ).fetchall()
        hours.update(hour for (hour,) in rows)
    return sorted(hours)
