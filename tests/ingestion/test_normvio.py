"""NormVio records: splitting, ids stable across overlapping records, rejects, a real recount."""

from __future__ import annotations

import copy
import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.events import ChatEvent, EventType, Reject
from ingestion.formats import normvio
from ingestion.importer import detect_format, import_paths
from ingestion.landing import read_lines
from ingestion.sources import SOURCE_PRIORITY, parser_for

NORMVIO = "moderation-normvio/normvio_dev.jsonl.gz"


def _msg(ts: str, user: str, text: str, mid: str, emotes: Any = "", **extra: Any) -> dict:
    entry = {"timestamp": ts, "user": user, "display_name": user.title(), "message": text,
             "is_emotes_only": False, "emotes": emotes, "message_id": mid,
             "action": "message"}  # fmt: skip
    return {**entry, **extra}


def _record(
    rid: str, action: str, user: str, *, bad_ts: str = "2021-04-12 13:40:06",
    single: list | None = None, multi: list | None = None, channel: str = "examplechan",
) -> dict:  # fmt: skip
    bad = _msg(bad_ts, user, "bad words here", f"bad-{rid}")
    del bad["action"]
    return {
        "id": rid, "action": action, "channel": channel, "labels": [],
        "bad_utterance": bad,
        "channel_setting": {"started_at": "2021-04-12 08:15:00", "timezone": "pst"},
        "single_user_context": single if single is not None else [],
        "multi_user_context": multi if multi is not None else [],
    }  # fmt: skip


def _write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _events(lines: Iterator[str | bytes]) -> tuple[list[ChatEvent], list[Reject]]:
    events: list[ChatEvent] = []
    rejects: list[Reject] = []
    for item in normvio.parse_records(lines):
        (events if isinstance(item, ChatEvent) else rejects).append(item)  # type: ignore[arg-type]
    return events, rejects


def _split(*records: Any) -> tuple[list[ChatEvent], list[Reject]]:
    return _events(normvio.landing_lines(records))


def test_record_maps_messages_emotes_and_moderation_in_utc() -> None:
    rec = _record(
        "1", "ban", "spamuser",
        single=[{"timestamp": "2021-04-12 13:40:09", "user": "spamuser", "action": "ban"},
                {"timestamp": "2021-04-12 13:40:09", "user": "spamuser", "action": "ban"}],
        multi=[_msg("2021-04-12 13:39:07", "chatty", "exmL hi exmL", "m1",
                    "900001:0-3,8-11/emotesv2_x:50-60"),
               {"timestamp": "2021-04-12 13:39:30", "user": "other", "action": "timeout"}],
    )  # fmt: skip
    events, rejects = _split(rec)
    assert rejects == []
    by_type = Counter(e.event_type for e in events)
    assert by_type == {EventType.MESSAGE: 2, EventType.BAN: 1, EventType.TIMEOUT: 1}
    bad = next(e for e in events if e.event_id == "bad-1")
    # PST is UTC-8 (the data's clock bots quote PDT one hour ahead of the stamps).
    assert bad.sent_at == datetime(2021, 4, 12, 21, 40, 6, tzinfo=UTC)
    assert (bad.channel, bad.user_login, bad.display_name) == (
        "examplechan",
        "spamuser",
        "Spamuser",
    )
    assert bad.source == "normvio" and bad.params["part"] == "bad_utterance"
    m1 = next(e for e in events if e.event_id == "m1")
    assert [(o.emote_id, o.code) for o in m1.emotes] == [("900001", "exmL")] * 2  # 50-60 clamped
    assert json.loads(m1.raw)["record"]["message_id"] == "m1"  # the original entry is the payload
    ban = next(e for e in events if e.event_type == EventType.BAN)
    assert (ban.target_user_login, ban.duration_seconds) == ("spamuser", None)
    assert ban.sent_at == datetime(2021, 4, 12, 21, 40, 9, tzinfo=UTC)
    timeout = next(e for e in events if e.event_type == EventType.TIMEOUT)
    assert timeout.target_user_login == "other" and timeout.user_login is None


def test_ban_vs_timeout_and_the_records_own_action() -> None:
    shown = _record("1", "timeout", "alice",
                    single=[{"timestamp": "2021-04-12 13:40:10", "user": "alice",
                             "action": "timeout"}])  # fmt: skip
    (timeout,) = [e for e in _split(shown)[0] if e.event_type != EventType.MESSAGE]
    assert timeout.event_type == EventType.TIMEOUT and timeout.params["part"] != "record_action"
    # The action is in no context: it is landed on its own, at the utterance's time.
    alone = _record("2", "ban", "bob", multi=[_msg("2021-04-12 13:40:00", "c", "x", "c1")])
    (ban,) = [e for e in _split(alone)[0] if e.event_type != EventType.MESSAGE]
    assert (ban.event_type, ban.target_user_login) == (EventType.BAN, "bob")
    assert ban.sent_at == datetime(2021, 4, 12, 21, 40, 6, tzinfo=UTC)
    assert ban.params == {"part": "record_action", "record_id": "2"}
    weird = _record("3", "warn", "carol")
    events, rejects = _split(weird)
    assert [e.event_type for e in events] == [EventType.MESSAGE]
    assert [r.reason for r in rejects] == ["record action 'warn' is neither ban nor timeout"]


def test_delete_message_is_a_deletion_of_that_message() -> None:
    rec = _record("1", "timeout", "rowdy", single=[
        {"timestamp": "2021-04-07 16:47:10", "user": "rowdy", "message": "x", "message_id": "bad-1",
         "action": "delete_message"},
        {"timestamp": "2021-04-07 16:47:11", "user": "rowdy", "action": "timeout"}])  # fmt: skip
    deletion = next(e for e in _split(rec)[0] if e.event_type == EventType.DELETE)
    assert (deletion.target_message_id, deletion.target_user_login) == ("bad-1", "rowdy")


def test_overlapping_contexts_give_one_event_id_per_message(tmp_path: Path) -> None:
    timeout = {"timestamp": "2021-04-12 13:39:30", "user": "other", "action": "timeout"}
    shared = [_msg("2021-04-12 13:39:07", "chatty", "hi", "m1"), timeout]
    first = _record("1", "ban", "a", multi=[*shared, _msg("2021-04-12 13:39:50", "z", "y", "m2")])
    second = _record("2", "ban", "b", bad_ts="2021-04-12 13:40:20", multi=copy.deepcopy(shared))
    ids_1 = {e.event_id for e in _split(first)[0]}
    ids_2 = {e.event_id for e in _split(second)[0]}
    common = ids_1 & ids_2
    assert len(common) == 2 and "m1" in common  # parsed separately: the same ids
    path = _write(tmp_path / "nv.jsonl.gz", [first, second])
    assert detect_format(path) == "normvio"
    report = import_paths([path], tmp_path / "landing")
    (file_report,) = report.files
    # Repeats are not landed twice; the loader's (channel, event_id) dedup covers the rest.
    assert (file_report.landed, file_report.rejected) == (len(ids_1 | ids_2), 0)
    landed: list[ChatEvent] = []
    for landing_file in file_report.landing_files:
        assert landing_file.parts[-4:-2] == ("normvio", "examplechan")
        landed += [e for e in parser_for("normvio")(read_lines(landing_file))
                   if isinstance(e, ChatEvent)]  # fmt: skip
    assert sorted(e.event_id for e in landed) == sorted(ids_1 | ids_2)
    assert SOURCE_PRIORITY["normvio"] > SOURCE_PRIORITY["irc"]


def test_missing_fields_and_garbage_are_rejected_with_reasons(tmp_path: Path) -> None:
    good = _record("ok", "timeout", "u", multi=[_msg("2021-04-12 13:39:07", "chatty", "hi", "m1")])
    no_ts = _record("a", "ban", "u1", multi=[{"user": "x", "message": "hi", "message_id": "n1",
                                              "action": "message"}])  # fmt: skip
    no_text = _record("b", "ban", "u2", multi=[
        {"timestamp": "2021-04-12 13:39:07", "user": "x", "message_id": "n2", "action": "message"}
    ])  # fmt: skip
    no_target = _record("c", "ban", "u3", multi=[{"timestamp": "2021-04-12 13:39:07",
                                                  "action": "timeout"}])  # fmt: skip
    bad_emotes = _record(
        "d", "ban", "u4", multi=[_msg("2021-04-12 13:39:07", "x", "hi", "n4", ["25:0-1"])]
    )  # type: ignore[arg-type]
    no_channel = {**good, "id": "e", "channel": None}
    not_list = {**good, "id": "f", "multi_user_context": "oops"}
    no_bad = {k: v for k, v in good.items() if k != "bad_utterance"}
    odd_zone = copy.deepcopy(good)
    odd_zone["channel_setting"]["timezone"] = "mars"
    no_setting = {k: v for k, v in copy.deepcopy(good).items() if k != "channel_setting"}
    no_setting["id"] = "g"
    no_setting["bad_utterance"]["message_id"] = "bad-g"
    lines = [good, "{garbage line", no_ts, no_text, no_target, bad_emotes, no_channel, not_list,
             no_bad, odd_zone, no_setting, [1, 2]]  # fmt: skip
    report = import_paths([_write(tmp_path / "nv.jsonl.gz", lines)], tmp_path / "landing")
    (file_report,) = report.files
    assert file_report.error is None
    reasons = Counter(r.reason for r in file_report.rejects)
    assert any(r.startswith("invalid JSON") for r in reasons)
    assert "timestamp None is not 'YYYY-MM-DD HH:MM:SS'" in reasons
    assert "message entry without message text" in reasons
    assert "timeout without a target user login" in reasons
    assert "emotes is list, expected an IRC emotes tag string" in reasons
    assert "record has no valid channel login (None)" in reasons
    assert "multi_user_context is str, expected a list" in reasons
    assert "bad_utterance is NoneType, expected an object" in reasons
    assert any(r.startswith("unknown timezone 'mars'") for r in reasons)
    assert "record is list, expected an object" in reasons
    # The good parts of partly broken records still land; no_setting defaults to pst.
    landed, landed_rejects = _events(x for p in file_report.landing_files for x in read_lines(p))
    assert landed_rejects == []
    assert {e.event_id for e in landed} >= {"bad-ok", "m1", "bad-a", "bad-g"}
    assert next(e for e in landed if e.event_id == "bad-g").sent_at.hour == 21


def test_bare_records_and_entries_without_context() -> None:
    rec = _record("1", "ban", "u")
    (item,) = normvio.parse_records([json.dumps(rec)])
    assert isinstance(item, Reject) and "import the file" in item.reason
    (item,) = normvio.parse_records([json.dumps({**rec, "multi_user_context": 3})])
    assert isinstance(item, Reject) and item.reason == "multi_user_context is int, expected a list"
    entry = _msg("2021-04-12 13:39:07", "chatty", "hi", "m1")
    (item,) = normvio.parse_records([json.dumps(entry)])
    assert isinstance(item, Reject) and "no channel login" in item.reason
    (item,) = normvio.parse_records([json.dumps({**entry, "channel": "xqc"})])
    assert isinstance(item, ChatEvent) and item.sent_at.hour == 21  # pst when nothing says


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=10,
)  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


@FUZZ
@given(data=st.data())
def test_mutated_records_never_raise(data: st.DataObject) -> None:
    record: Any = _record("1", "ban", "u",
        single=[{"timestamp": "2021-04-12 13:40:09", "user": "u", "action": "ban"}],
        multi=[_msg("2021-04-12 13:39:07", "chatty", "Kappa hi", "m1", "25:0-4,30-40"),
               {"timestamp": "2021-04-12 13:39:30", "user": "o", "action": "delete_message",
                "message_id": "m1", "message": "Kappa hi"}])  # fmt: skip
    path = data.draw(st.sampled_from(_paths(record)))
    replacement = data.draw(JSON_VALUES)
    if not path:
        record = replacement
    else:
        parent = record
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    for item in normvio.parse_records(normvio.landing_lines([record])):
        if isinstance(item, Reject):
            assert item.reason
            continue
        assert item.channel and item.event_id and item.sent_at.utcoffset() == timedelta(0)
        for emote in item.emotes:
            assert emote.code == (item.text or "")[emote.start : emote.end + 1]


# --- real data: an independent recount from the raw JSON --------------------------------------

REAL_EVERY = 20  # every 20th record: ~150 records from many channels
PST = timedelta(hours=8)


def _recount(records: list[dict]) -> dict[str, Any]:
    """Plain json/regex recount: distinct messages, chatters, emotes and actions per channel."""
    messages: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    actions: set[tuple[str, str, str, str]] = set()
    deletions: set[tuple[str, str]] = set()
    for rec in records:
        channel = rec["channel"]
        entries = [rec["bad_utterance"], *rec["single_user_context"], *rec["multi_user_context"]]
        for e in entries:
            kind = e.get("action", "message")
            if kind == "message":
                key = (channel, e["message_id"])
                messages[key] = (e["timestamp"], e["user"], e["emotes"], e["message"])
            elif kind == "delete_message":
                deletions.add((channel, e["message_id"]))
            else:
                actions.add((channel, kind, e["user"], e["timestamp"]))
    per_hour: Counter[tuple[str, datetime]] = Counter()
    emotes: Counter[str] = Counter()
    chatters: dict[str, set[str]] = {}
    for (channel, _), (ts, user, tag, text) in messages.items():
        utc = datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) + PST
        per_hour[(channel, utc.replace(minute=0, second=0))] += 1
        chatters.setdefault(channel, set()).add(user.lower())
        # Positions past the end of the text occur (the README says: clamp them).
        emotes[channel] += sum(int(a) < len(text) for a in re.findall(r"(\d+)-\d+", tag))
    return {
        "messages": Counter(c for c, _ in messages),
        "per_hour": per_hour,
        "chatters": {c: len(u) for c, u in chatters.items()},
        "emotes": emotes,
        "moderation": Counter((c, k) for c, k, _, _ in actions)
        + Counter((c, "delete") for c, _ in deletions),
    }


def test_real_subset_matches_an_independent_recount(
    data: Callable[[str], Path], tmp_path: Path
) -> None:
    with gzip.open(data(NORMVIO), "rt", encoding="utf-8") as fh:
        raw_lines = [line for i, line in enumerate(fh) if i % REAL_EVERY == 0]
    records = [json.loads(line) for line in raw_lines]
    subset = tmp_path / "normvio_subset.jsonl.gz"
    subset.write_bytes(gzip.compress("".join(raw_lines).encode()))
    expected = _recount(records)

    report = import_paths([subset], tmp_path / "landing")
    (file_report,) = report.files
    assert (file_report.format, file_report.rejected, file_report.error) == ("normvio", 0, None)
    stored: dict[tuple[str, str], ChatEvent] = {}  # what the loader keeps: one per (channel, id)
    for landing_file in file_report.landing_files:
        for item in parser_for("normvio")(read_lines(landing_file)):
            assert isinstance(item, ChatEvent), item
            stored.setdefault((item.channel, item.event_id), item)
    events = list(stored.values())
    msgs = [e for e in events if e.event_type == EventType.MESSAGE]
    entries = sum(1 + len(r["single_user_context"]) + len(r["multi_user_context"])
                  for r in records)  # fmt: skip
    assert entries > file_report.landed >= len(events)  # overlapping contexts were merged

    assert Counter(e.channel for e in msgs) == expected["messages"]
    assert (
        Counter((e.channel, e.sent_at.replace(minute=0, second=0)) for e in msgs)
        == expected["per_hour"]
    )
    chatters: dict[str, set[str]] = {}
    for e in msgs:
        chatters.setdefault(e.channel, set()).add(e.user_login or "")
    assert {c: len(u) for c, u in chatters.items()} == expected["chatters"]
    emotes = Counter(e.channel for e in msgs for _ in e.emotes)
    assert +emotes == +expected["emotes"]
    moderation = Counter(
        (e.channel, "delete" if e.event_type == EventType.DELETE else str(e.event_type))
        for e in events if e.event_type != EventType.MESSAGE
    )  # fmt: skip
    assert moderation == expected["moderation"]
    kinds = Counter(k for _, k in moderation.elements())
    assert kinds["ban"] > 0 and kinds["timeout"] > 0 and len(expected["messages"]) > 20
    # Every record's own action is one of the stored moderation events of its user.
    targets = {(e.channel, str(e.event_type), e.target_user_login) for e in events}
    for rec in records:
        assert (rec["channel"], rec["action"], rec["bad_utterance"]["user"]) in targets
