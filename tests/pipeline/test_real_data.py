"""Real chat through `twitch-warehouse import` and dbt, checked against an independent recount.

A small real subset: two short VODs of each `vod-chat-gql` channel (both GQL schemas), the raw
#xqcow IRC sample and the first NormVio records. The import spans 2019-2026, so it takes the bulk
path (`run_hours_bulk`, whose `dbt build` raises on any failed model or test) and then the
`daily_report` Dagster job (dbt tests as asset checks). The recount reads the raw files with
plain json/gzip/regex code, not the project's parsers.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from typer.testing import CliRunner

from twitch_warehouse.cli import app
from twitch_warehouse.db import PgUrl
from twitch_warehouse.settings import get_settings

pytestmark = pytest.mark.integration

VODS = [
    "vod-chat-gql/arypie/2021-03-09_00-07-04_942313314",  # old schema: {_id, version}, emoticon_id
    "vod-chat-gql/arypie/2025-03-07_21-00-24_2399740976",  # new schema: setID, emoteID
    "vod-chat-gql/noanoelle/2025-10-06_08-00-11_2584598572",
    "vod-chat-gql/noanoelle/2026-01-06_11-33-16_2662619575",
    "vod-chat-gql/neppienep/2025-11-08_21-39-03_2613322144",
    "vod-chat-gql/neppienep/2026-02-15_00-00-45_2698016541",
]
IRC = "irc-raw-xqcow/channel.txt.gz"
NORMVIO = "moderation-normvio/normvio_dev.jsonl.gz"
NORMVIO_RECORDS = 30
NORMVIO_UTC_OFFSET = timedelta(hours=8)  # the records' `pst` wall clock is UTC-8

Key = tuple[str, datetime]


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


class Recount:
    def __init__(self) -> None:
        self.minutes: Counter[Key] = Counter()  # (channel, minute) -> messages
        self.emotes: Counter[str] = Counter()  # channel -> native emote uses
        self.moderation: Counter[tuple[str, str]] = Counter()  # (channel, kind) -> actions

    def message(self, channel: str, ts: datetime, emotes: int) -> None:
        self.minutes[(channel, _minute(ts))] += 1
        self.emotes[channel] += emotes


def _gql(recount: Recount, vod_dir: Path) -> None:
    channel = vod_dir.parent.name
    nodes = json.loads(gzip.decompress((vod_dir / "verbose_chat.json.gz").read_bytes()))
    created = json.loads((vod_dir / "vod.json").read_text())["created_at"]
    start = datetime.fromisoformat(created.replace("Z", "+00:00")).replace(tzinfo=UTC)
    seen: set[str] = set()
    for node in nodes:
        if node["id"] in seen:
            continue
        seen.add(node["id"])
        stamp = re.sub(r"(\.\d{6})\d+", r"\1", node["createdAt"].replace("Z", "+00:00"))
        sent = datetime.fromisoformat(stamp)
        # Old highlight exports stamp comments with the highlight's making: the video start plus
        # the comment's offset times it whenever the two disagree by more than 30 s.
        replayed = start + timedelta(seconds=node["contentOffsetSeconds"])
        if abs(sent - replayed) > timedelta(seconds=30):
            sent = replayed
        frags = node["message"]["fragments"] or []
        recount.message(channel, sent,
                        sum(1 for f in frags if f.get("emote") and f.get("text")))  # fmt: skip


_TAGS = re.compile(r"^@(\S+) (?::\S+ )?(PRIVMSG|CLEARCHAT) #(\w+)(?: :(.*))?$")


def _irc(recount: Recount, path: Path) -> None:
    for line in gzip.decompress(path.read_bytes()).decode().splitlines():
        m = _TAGS.match(line)
        if not m:
            continue
        tags = dict(kv.split("=", 1) for kv in m[1].split(";"))
        channel, ts = m[3], datetime.fromtimestamp(int(tags["tmi-sent-ts"]) / 1000, UTC)
        if m[2] == "CLEARCHAT":
            if m[4]:
                recount.moderation[(channel, "timeout" if "ban-duration" in tags else "ban")] += 1
            continue
        text = m[4] or ""
        if text.startswith("\x01ACTION ") and text.endswith("\x01"):
            text = text[8:-1]
        starts = re.findall(r"(\d+)-\d+", tags.get("emotes", ""))
        recount.message(channel, ts, sum(int(s) < len(text) for s in starts))


def _normvio(recount: Recount, records: list[dict]) -> None:
    messages: dict[tuple[str, str], tuple[str, str, str]] = {}
    actions: set[tuple[str, str, str, str]] = set()
    deletions: set[tuple[str, str]] = set()
    for rec in records:
        channel = rec["channel"]
        for e in [rec["bad_utterance"], *rec["single_user_context"], *rec["multi_user_context"]]:
            kind = e.get("action", "message")
            if kind == "message":
                messages[(channel, e["message_id"])] = (e["timestamp"], e["emotes"], e["message"])
            elif kind == "delete_message":
                deletions.add((channel, e["message_id"]))
            else:
                actions.add((channel, kind, e["user"], e["timestamp"]))
    for (channel, _), (stamp, tag, text) in messages.items():
        local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        starts = re.findall(r"(\d+)-\d+", tag)
        recount.message(
            channel, local + NORMVIO_UTC_OFFSET, sum(int(s) < len(text) for s in starts)
        )
    recount.moderation.update((c, kind) for c, kind, _, _ in actions)
    recount.moderation.update((c, "delete") for c, _ in deletions)


def _asset_checks() -> tuple[int, list[str]]:
    """(checks evaluated, failed checks) over the instance's runs: dbt tests as asset checks."""
    instance = dg.DagsterInstance.get()
    evaluated, failed = 0, []
    for run in instance.get_runs():
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
        ).records
        for record in records:
            event = record.event_log_entry.dagster_event
            data = event.asset_check_evaluation_data if event else None
            if data is None:
                continue
            evaluated += 1
            if not data.passed:
                failed.append(f"{data.asset_key.to_user_string()}:{data.check_name}")
    return evaluated, failed


def test_real_subset_imports_builds_and_matches_a_recount(
    module_warehouse_env: PgUrl, tmp_path: Path
) -> None:
    data_dir = get_settings().chat_data_dir
    paths = [data_dir / p for p in [*VODS, IRC, NORMVIO]]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        missing(f"real chat data not found: {missing}")
    with gzip.open(data_dir / NORMVIO, "rt", encoding="utf-8") as fh:
        head = [line for _, line in zip(range(NORMVIO_RECORDS), fh, strict=False)]
    subset = tmp_path / "normvio_head.jsonl.gz"
    subset.write_bytes(gzip.compress("".join(head).encode()))

    expected = Recount()
    for vod in VODS:
        _gql(expected, data_dir / vod)
    _irc(expected, data_dir / IRC)
    _normvio(expected, [json.loads(line) for line in head])

    sources = [str(data_dir / v) for v in VODS] + [str(data_dir / IRC), str(subset)]
    result = CliRunner().invoke(app, ["import", *sources])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "warehouse updated" in result.output
    evaluated, failed = _asset_checks()
    assert evaluated > 0 and failed == []

    url = module_warehouse_env
    with psycopg.connect(url.libpq()) as conn:
        conn.execute("set timezone to 'UTC'")
        quarantined = conn.execute("select count(*) from raw.quarantine").fetchone()[0]  # type: ignore[index]
        windows = {
            (c, w): n for c, w, n in conn.execute(
                "select channel, window_start_at, message_count from marts.fct_chat_windows"
                " where window_seconds = 60 and message_count > 0")
        }  # fmt: skip
        messages = dict(conn.execute("select channel, count(*) from marts.fct_chat_messages"
                                     " group by 1").fetchall())  # fmt: skip
        emotes = dict(conn.execute(
            "select channel, sum(use_count)::int from marts.fct_emote_usage"
            " where window_seconds = 86400 and provider = 'twitch' group by 1"
        ).fetchall())  # fmt: skip
        moderation = {
            (c, k): n for c, k, n in conn.execute(
                "select channel, action_type, count(*) from marts.fct_moderation_events"
                " group by 1, 2")
        }  # fmt: skip
        targets_known = conn.execute(
            "select count(*) filter (where target_user_login is not null), count(*)"
            " from marts.fct_moderation_events where channel = 'hasanabi'"
        ).fetchone()
        # Every ML step of the hourly job ran on the bulk path: each scored week has its
        # moderation and hype model rows (a null model where the weeks before had too little).
        model_weeks = conn.execute(
            "select (select count(*) from ml.moderation_models),"
            " (select count(*) from ml.hype_models)"
        ).fetchone()
        chat_hours = {
            f"{hour:%Y-%m-%d-%H:00}" for (hour,) in conn.execute(
                "select distinct date_trunc('hour', sent_at) from raw.chat_events")
        }  # fmt: skip

    assert quarantined == 0
    assert model_weeks is not None and model_weeks[0] == model_weeks[1] > 0
    per_channel: Counter[str] = Counter()
    for (channel, _), n in expected.minutes.items():
        per_channel[channel] += n
    assert set(per_channel) == {"arypie", "noanoelle", "neppienep", "xqcow", "hasanabi"}
    assert messages == dict(per_channel)
    assert windows == dict(expected.minutes)
    assert emotes == {c: n for c, n in expected.emotes.items() if n}
    assert moderation == dict(expected.moderation)
    assert moderation[("xqcow", "timeout")] == 57 and moderation[("xqcow", "ban")] == 1
    assert targets_known is not None and targets_known[0] == targets_known[1] > 0
    # The bulk path made no Dagster runs, yet the UI shows the hours that held chat as built,
    # from raw to the hourly marts, and the empty hours between them as missing.
    instance = dg.DagsterInstance.get()
    for key in (["raw", "chat_events"], ["ml", "hype_predictions"], ["marts", "fct_chat_windows"]):
        assert instance.get_materialized_partitions(dg.AssetKey(key)) == chat_hours, key
