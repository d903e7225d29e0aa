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
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingestion.clients.emotes import EmoteSnapshot


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    snapshots: int
    emotes: int


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


def load_snapshots(conn: psycopg.Connection, records: Iterable[dict[str, Any]]) -> CatalogLoad:
    """Replace each snapshot's rows (by date, provider, scope, channel) in one transaction."""
    snapshots = emotes = 0
    with conn.transaction():
        for record in records:
            key = (date.fromisoformat(record["snapshot_date"]), record["provider"],
                   record["scope"], record["channel"] or "")  # fmt: skip
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
        conn.execute("analyze raw.emote_catalog_snapshots")
    return CatalogLoad(snapshots, emotes)
