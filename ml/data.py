"""Readers for the real chat sets under ``chat_data_dir`` (training/evaluation only).

Nothing here is needed at scoring time: shipped models load from ``ml/models`` alone.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def data_dir() -> Path:
    from twitch_warehouse.settings import get_settings

    return Path(get_settings().chat_data_dir)


@dataclass(slots=True)
class ChatMessage:
    text: str
    emotes: list[str] = field(default_factory=list)  # natively marked emote codes


def iter_vod_chat(root: Path) -> Iterator[ChatMessage]:
    """vod-chat-gql messages with their native emote fragments."""
    for path in sorted((root / "vod-chat-gql").glob("*/*/verbose_chat.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            nodes = json.load(fh)
        for node in nodes:
            frags = (node.get("message") or {}).get("fragments") or []
            text = "".join(f.get("text") or "" for f in frags)
            emotes = [f["text"].strip() for f in frags if f.get("emote") and f.get("text")]
            yield ChatMessage(text, emotes)


def _emotes_from_positions(text: str, spec: str) -> list[str]:
    """Twitch ``id:a-b,c-d/id2:...`` positions (code points, end inclusive) -> emote codes."""
    out: list[str] = []
    if not spec:
        return out
    for part in spec.split("/"):
        _, _, spans = part.partition(":")
        for span in spans.split(","):
            a, _, b = span.partition("-")
            if a.isdigit() and b.isdigit():
                code = text[int(a) : min(int(b), len(text) - 1) + 1].strip()
                if code:
                    out.append(code)
    return out


def iter_normvio(root: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(root / "moderation-normvio" / "normvio_dev.jsonl.gz", "rt") as fh:
        for line in fh:
            yield json.loads(line)


def iter_normvio_context(root: Path) -> Iterator[ChatMessage]:
    """Unlabelled surrounding chat of NormVio (the text only, no moderation labels)."""
    seen: set[str] = set()  # windows of one channel overlap; count each message once
    for rec in iter_normvio(root):
        for m in rec["multi_user_context"]:
            text = m.get("message")
            mid = m.get("message_id") or ""
            if text and mid not in seen:
                seen.add(mid)
                yield ChatMessage(text, _emotes_from_positions(text, m.get("emotes") or ""))


_IRC_RE = re.compile(r"^@(\S+) :[^ ]+ PRIVMSG #\S+ :(.*)$")


def iter_irc_xqcow(root: Path) -> Iterator[ChatMessage]:
    with gzip.open(root / "irc-raw-xqcow" / "channel.txt.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            m = _IRC_RE.match(line.rstrip("\r\n"))
            if not m:
                continue
            tags = {k: v for k, _, v in (t.partition("=") for t in m.group(1).split(";"))}
            text = m.group(2)
            yield ChatMessage(text, _emotes_from_positions(text, tags.get("emotes", "")))


def catalog_emotes(root: Path) -> set[str]:
    """Third-party (BTTV/FFZ/7TV) and global emote codes from the MIT-licensed catalogs."""
    codes: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for key in ("code", "name"):
                val = obj.get(key)
                if isinstance(val, str) and " " not in val and (key == "code" or "id" in obj):
                    codes.add(val)
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    for rel in (
        "rechat-v5-northernlion/bttv-emotes-history-2025-06-20.json",
        "irc-eventsub-vectors/benchmarks/resources/seventvemotes-nymn.json",
        "emote-catalogs/ffz-bttv-v2-hey_jase/bttv.json",
        "emote-catalogs/ffz-bttv-v2-hey_jase/ffz.json",
        "emote-catalogs/twitch-global-2017/global.json",
    ):
        path = root / rel
        if path.exists():
            walk(json.loads(path.read_text(encoding="utf-8")))
    for rel in ("bttv_emotes.txt", "global_emotes.txt"):
        path = root / "emote-catalogs" / "twitch-global-2017" / rel
        if path.exists():
            codes.update(w.strip() for w in path.read_text(encoding="utf-8").split() if w.strip())
    return {c for c in codes if 2 <= len(c) <= 30}


def load_kobs(root: Path) -> tuple[list[str], list[int]]:
    """Kobs et al. labels (NON-COMMERCIAL: evaluation only)."""
    texts: list[str] = []
    labels: list[int] = []
    path = root / "labels-sentiment-kobs" / "data" / "labeled_dataset.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["message"])
            labels.append(int(row["sentiment"]))
    return texts, labels


def load_davidson(root: Path) -> tuple[list[str], list[int]]:
    """Davidson et al. tweets (MIT); class 0 hate, 1 offensive, 2 neither."""
    texts: list[str] = []
    labels: list[int] = []
    path = root / "labels-offensive-davidson" / "labeled_data.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["tweet"])
            labels.append(int(row["class"]))
    return texts, labels
