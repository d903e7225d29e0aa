"""Emote bursts: sudden surges of one emote against its own trailing baseline.

Input is what the dbt marts hold: per-minute emote uses `(channel, emote, minute_start, uses)` and,
optionally, per-minute chat totals `(channel, minute_start, messages)`.

Detector (per channel, vectorised over a minutes x emotes matrix):
- the time axis is the channel's *active* minutes (minutes with chat), so the gap between two
  streams does not flush the baseline and a stream start is compared with the previous stream;
  a burst never runs across that gap (`ml.streams.SESSION_GAP`): a stream's goodbye flood and
  the next stream's hello are two bursts;
- expected uses = max(trailing median of uses, trailing median of the emote's share of messages x
  this minute's messages): an emote that merely keeps pace with a faster chat is not a burst;
- score = (uses - expected) / max(sqrt(expected + 1), trailing IQR / 1.349), a count-aware robust z;
- hysteresis: a burst is a run of minutes with score >= `z_off` that contains at least one minute
  with score >= `z_on`, uses >= `min_uses` and uses >= `min_ratio` x expected.

Hourly runs (`ml.warehouse.detect_bursts_window`) read enough active minutes before the hour for
every baseline, and keep the bursts that chat after them shows to have ended in the hour.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from ingestion.formats.gql import CREATED_AT_TOLERANCE
from ml.streams import starts_stream

MODEL_VERSION = "bursts-1.1.0"

BURST_COLUMNS = [
    "burst_id",
    "channel",
    "emote",
    "started_at",
    "fired_at",
    "ended_at",
    "peak_at",
    "peak_uses",
    "baseline_uses",
    "score",
    "model_version",
]
NEARBY_COLUMNS = [
    "burst_id",
    "channel",
    "related_type",
    "related_at",
    "offset_seconds",
    "detail",
]
_MINUTE = pd.Timedelta(minutes=1)
_EMOTE_BLOCK = 512  # emotes per matrix block: bounds memory on long histories


# --------------------------------------------------------------------------------------------
# Real data helpers (VOD chat -> message frame -> per-minute counts)
# --------------------------------------------------------------------------------------------


def read_vod_chat(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Read vod-chat-gql `verbose_chat.json.gz` files into one message frame.

    Columns: channel, stream_id (VOD id), stream_start (VOD created_at, UTC), message_id,
    sent_at (UTC), user_login (None for deleted accounts), text, emotes (list of native emote
    codes, one per occurrence), is_subscriber, subscriber_months (badge version modulo 1000,
    tier-coded versions like 2012 become 12; None without a subscriber badge).
    """
    frames: list[pd.DataFrame] = []
    for raw_path in paths:
        path = Path(raw_path)
        channel = path.parent.parent.name
        stream_id = path.parent.name.rsplit("_", 1)[-1]
        meta_path = path.parent / "vod.json"
        stream_start = None
        if meta_path.exists():
            stream_start = json.loads(meta_path.read_text()).get("created_at")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            comments: list[dict[str, Any]] = json.load(fh)
        rows = [_comment_row(c) for c in comments]
        frame = pd.DataFrame(
            rows,
            columns=["message_id", "sent_at", "offset", "user_login", "text", "emotes", "sub"],
        )
        frame.insert(0, "channel", channel)
        frame.insert(1, "stream_id", stream_id)
        frame.insert(2, "stream_start", stream_start)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(
            columns=[
                "channel",
                "stream_id",
                "stream_start",
                "message_id",
                "sent_at",
                "user_login",
                "text",
                "emotes",
                "is_subscriber",
                "subscriber_months",
            ]
        )
    df = pd.concat(frames, ignore_index=True)
    df["sent_at"] = pd.to_datetime(df["sent_at"], utc=True, format="ISO8601")
    df["stream_start"] = pd.to_datetime(df["stream_start"], utc=True, format="ISO8601")
    # Old highlight exports stamp every comment with the highlight's making; as the importer
    # does (`ingestion.formats.gql`), such comments are timed by start + offset instead.
    offset = cast(pd.Series, pd.to_numeric(df.pop("offset"), errors="coerce"))
    replayed = df["stream_start"] + pd.to_timedelta(offset, unit="s")
    stray = (df["sent_at"] - replayed).abs() > CREATED_AT_TOLERANCE
    df["sent_at"] = df["sent_at"].mask(stray & replayed.notna(), replayed)
    df["stream_start"] = df["stream_start"].fillna(
        df.groupby("stream_id")["sent_at"].transform("min")
    )
    sub = cast(pd.Series, pd.to_numeric(df.pop("sub"), errors="coerce"))
    df["is_subscriber"] = sub.notna()
    df["subscriber_months"] = (sub % 1000).astype("Int64")
    return df


def _comment_row(comment: dict[str, Any]) -> tuple[Any, ...]:
    # Per-comment JSON flattening is unavoidable when reading JSON; analytics below is vectorised.
    message = comment.get("message") or {}
    fragments = message.get("fragments") or []
    text = "".join(f.get("text") or "" for f in fragments)
    emotes = [f.get("text") or "" for f in fragments if f.get("emote")]
    sub = None
    for badge in message.get("userBadges") or []:
        if (badge.get("_id") or badge.get("setID")) == "subscriber":
            sub = badge.get("version")
    commenter = comment.get("commenter") or {}
    return (comment.get("id"), comment.get("createdAt"), comment.get("contentOffsetSeconds"),
            commenter.get("login"), text, emotes, sub)  # fmt: skip


def vod_paths(data_dir: Path | str, channels: Sequence[str] | None = None) -> list[Path]:
    """All VOD chat files under `vod-chat-gql/`, oldest first within each channel."""
    root = Path(data_dir)
    chans = channels or sorted(p.name for p in root.iterdir() if p.is_dir())
    return [p for c in chans for p in sorted((root / c).glob("*/verbose_chat.json.gz"))]


def emote_minute_counts(messages: pd.DataFrame) -> pd.DataFrame:
    """Per-minute emote uses `(channel, emote, minute_start, uses)` from a message frame."""
    subset = cast(pd.DataFrame, messages[["channel", "sent_at", "emotes"]])
    exploded = subset.explode("emotes").dropna(subset="emotes")
    exploded["minute_start"] = exploded["sent_at"].dt.floor("min")
    out = (
        cast(pd.Series, exploded.groupby(["channel", "emotes", "minute_start"], sort=True).size())
        .rename("uses")
        .reset_index()
        .rename(columns={"emotes": "emote"})
    )
    return out


def message_minute_counts(messages: pd.DataFrame) -> pd.DataFrame:
    """Per-minute totals `(channel, minute_start, messages, chatters)` from a message frame."""
    df = messages.assign(minute_start=messages["sent_at"].dt.floor("min"))
    return (
        df.groupby(["channel", "minute_start"], sort=True)
        .agg(messages=("sent_at", "size"), chatters=("user_login", "nunique"))
        .reset_index()
    )


# --------------------------------------------------------------------------------------------
# Synthetic background with known bursts (evaluation)
# --------------------------------------------------------------------------------------------


def synthetic_emote_series(
    seed: int,
    *,
    channel: str = "synthetic",
    n_minutes: int = 6 * 60,
    n_emotes: int = 60,
    base_rate: float = 40.0,
    emote_share: float = 0.6,
    n_bursts: int = 25,
    start: str = "2025-01-01T18:00:00Z",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A deterministic realistic background with injected bursts.

    Background: messages/minute follow a slowly drifting, overdispersed (gamma-Poisson) rate with
    occasional chat-wide surges (everything scales up: these must NOT be reported as emote
    bursts); emote popularity is Zipf; each emote additionally has its own slow mood drift.
    Returns `(emote_counts, message_counts, truth)`; truth has `(channel, emote, started_at,
    ended_at, peak_at, extra_uses)`.
    """
    rng = np.random.default_rng(seed)
    minutes = pd.date_range(pd.Timestamp(start), periods=n_minutes, freq="min")
    t = np.arange(n_minutes)
    drift = np.exp(
        0.35 * np.sin(2 * np.pi * t / rng.uniform(90, 240))
        + rng.normal(0, 0.05, n_minutes).cumsum() * 0.02
    )
    surge = np.ones(n_minutes)
    for s in rng.choice(n_minutes - 5, size=max(1, n_minutes // 120), replace=False):
        surge[s : s + rng.integers(1, 4)] *= rng.uniform(
            1.6, 2.5
        )  # chat-wide hype, not emote-specific
    rate = base_rate * drift * surge * rng.gamma(8.0, 1 / 8.0, n_minutes)  # overdispersion
    messages = rng.poisson(rate)

    ranks = np.arange(1, n_emotes + 1)
    zipf = 1.0 / ranks**1.1
    zipf /= zipf.sum()
    mood = np.exp(rng.normal(0, 0.03, (n_minutes, n_emotes)).cumsum(axis=0).clip(-0.7, 0.7))
    lam = messages[:, None] * emote_share * zipf[None, :] * mood
    uses = rng.poisson(lam * rng.gamma(10.0, 1 / 10.0, lam.shape))

    truth_rows: list[dict[str, Any]] = []
    # Bursts are well separated per emote and at least 40 min in, so the baseline has warmed up.
    starts = rng.choice(np.arange(40, n_minutes - 8), size=n_bursts, replace=False)
    emotes = rng.integers(0, min(n_emotes, 40), size=n_bursts)
    busy: dict[int, list[int]] = {}
    for s, e in zip(starts, emotes, strict=True):
        if any(abs(s - o) < 15 for o in busy.get(int(e), [])):
            continue
        busy.setdefault(int(e), []).append(int(s))
        length = int(rng.integers(1, 5))  # 1-4 minutes, decaying
        base = float(np.median(lam[max(0, s - 30) : s, e]))
        # A burst worth reporting: >= 12 extra uses at the peak and 4-10x the emote's baseline.
        peak_extra = max(12.0, base * rng.uniform(4.0, 10.0))
        shape = np.array([1.0, 0.5, 0.25, 0.1])[:length]
        extra = rng.poisson(peak_extra * shape)
        uses[s : s + length, e] += extra
        messages[s : s + length] += (extra * 0.8).astype(
            int
        )  # emote spam is mostly emote-only lines
        truth_rows.append(
            {
                "channel": channel,
                "emote": f"Emote{e:03d}",
                "started_at": minutes[s],
                "ended_at": minutes[s + length - 1] + _MINUTE,
                "peak_at": minutes[s],
                "extra_uses": int(extra.sum()),
            }
        )
    names = np.array([f"Emote{i:03d}" for i in range(n_emotes)])
    counts = pd.DataFrame(
        {
            "channel": channel,
            "emote": np.tile(names, n_minutes),
            "minute_start": np.repeat(minutes, n_emotes),
            "uses": uses.ravel(),
        }
    )
    counts = cast(pd.DataFrame, counts[counts["uses"] > 0]).reset_index(drop=True)
    totals = pd.DataFrame({"channel": channel, "minute_start": minutes, "messages": messages})
    truth = pd.DataFrame(truth_rows).sort_values("started_at", ignore_index=True)
    return counts, totals, truth


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


def detect_bursts(
    emote_counts: pd.DataFrame,
    message_counts: pd.DataFrame | None = None,
    *,
    window: int = 30,
    min_periods: int = 10,
    z_on: float = 5.0,
    z_off: float = 2.0,
    min_uses: int = 8,
    min_ratio: float = 3.0,
) -> pd.DataFrame:
    """Detect emote bursts; returns the `BURST_COLUMNS` frame (UTC; `started_at`, `fired_at` (the
    first minute over the onset threshold: when the burst became known) and `peak_at` are minute
    starts, `ended_at` is the exclusive end: the last minute's start + 1 minute).

    `emote_counts`: (channel, emote, minute_start, uses). `message_counts` (optional):
    (channel, minute_start, messages); it defines the active minutes and enables the share-based
    expectation.
    """
    frames: list[pd.DataFrame] = []
    counts = cast(pd.DataFrame, emote_counts[["channel", "emote", "minute_start", "uses"]])
    for channel, group in counts.groupby("channel", sort=True):
        totals = None
        if message_counts is not None:
            totals = (
                message_counts.loc[message_counts["channel"] == channel]
                .groupby("minute_start")["messages"]
                .sum()
            )
        frames.append(
            _detect_channel(
                str(channel), group, totals, window, min_periods, z_on, z_off, min_uses, min_ratio
            )
        )
    bursts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if bursts.empty:
        return pd.DataFrame(columns=BURST_COLUMNS)
    bursts["burst_id"] = _stable_ids(
        cast(pd.Series, bursts["channel"]),
        cast(pd.Series, bursts["emote"]),
        cast(pd.Series, bursts["started_at"]),
    )
    bursts["model_version"] = MODEL_VERSION
    return cast(pd.DataFrame, bursts[BURST_COLUMNS]).sort_values(
        ["started_at", "channel", "emote"], ignore_index=True
    )


def _detect_channel(
    channel: str,
    group: pd.DataFrame,
    totals: pd.Series | None,
    window: int,
    min_periods: int,
    z_on: float,
    z_off: float,
    min_uses: int,
    min_ratio: float,
) -> pd.DataFrame:
    # Emotes that never reach min_uses in a minute cannot burst: dropping them bounds the matrix.
    peak = cast(pd.Series, group.groupby("emote")["uses"].max())
    emotes = peak.index[(peak >= min_uses).to_numpy()]
    group = cast(pd.DataFrame, group[cast(pd.Series, group["emote"]).isin(emotes)])
    if group.empty:
        return pd.DataFrame()
    minutes = pd.DatetimeIndex(group["minute_start"].unique())
    if totals is not None:
        minutes = minutes.union(pd.DatetimeIndex(totals.index))
    minutes = minutes.sort_values()
    total_arr = None if totals is None else totals.reindex(minutes, fill_value=0).to_numpy(float)

    out: list[pd.DataFrame] = []
    emote_list = list(emotes)
    for i in range(0, len(emote_list), _EMOTE_BLOCK):
        block = emote_list[i : i + _EMOTE_BLOCK]
        sub = group[group["emote"].isin(block)]
        wide = (
            sub.pivot_table(index="minute_start", columns="emote", values="uses", aggfunc="sum")
            .reindex(index=minutes, columns=block)
            .fillna(0.0)
        )
        out.append(
            _scan(channel, wide, total_arr, starts_stream(minutes), window, min_periods, z_on,
                  z_off, min_uses, min_ratio)
        )  # fmt: skip
    return pd.concat(out, ignore_index=True)


def _scan(
    channel: str,
    wide: pd.DataFrame,
    totals: np.ndarray | None,
    stream_starts: np.ndarray,
    window: int,
    min_periods: int,
    z_on: float,
    z_off: float,
    min_uses: int,
    min_ratio: float,
) -> pd.DataFrame:
    trailing = wide.rolling(window, min_periods=min_periods)
    base = trailing.median().shift(1)
    iqr = (trailing.quantile(0.75) - trailing.quantile(0.25)).shift(1)
    x = wide.to_numpy()
    expected = base.to_numpy()
    if totals is not None:
        safe = np.where(totals > 0, totals, np.nan)[:, None]
        share = pd.DataFrame(x / safe).rolling(window, min_periods=min_periods).median().shift(1)
        expected = np.fmax(expected, share.to_numpy() * totals[:, None])
    scale = np.fmax(np.sqrt(expected + 1.0), iqr.to_numpy() / 1.349)
    score = (x - expected) / scale
    score = np.nan_to_num(score, nan=-np.inf)  # warm-up minutes never fire
    on = (score >= z_on) & (x >= min_uses) & (x >= min_ratio * np.nan_to_num(expected))
    active = score >= z_off

    # Emote-major flattening; runs never cross from one emote's column into the next, nor from one
    # stream into the next (each column starts with a stream start).
    n_min = x.shape[0]
    act = active.T.ravel()
    on_f = on.T.ravel()
    run_breaks = np.tile(stream_starts, x.shape[1])
    starts = act & (~np.r_[False, act[:-1]] | run_breaks)
    run_id = np.cumsum(starts)
    run_id[~act] = 0
    if not on_f.any():
        return pd.DataFrame()
    firing = np.unique(run_id[on_f & (run_id > 0)])
    sel = np.isin(run_id, firing)
    idx = np.flatnonzero(sel)
    runs = pd.DataFrame(
        {
            "run": run_id[idx],
            "pos": idx,
            "minute": idx % n_min,
            "emote_i": idx // n_min,
            "uses": x.T.ravel()[idx],
            "fires": on_f[idx],
            "expected": np.nan_to_num(expected.T.ravel()[idx]),
            "score": score.T.ravel()[idx],
        }
    )
    g = runs.groupby("run", sort=False)
    first = cast(pd.Series, g["minute"].min())
    fired = cast(pd.Series, runs[runs["fires"]].groupby("run", sort=False)["minute"].min())
    last = cast(pd.Series, g["minute"].max())
    best = cast(pd.Series, g["score"].max())
    peak_row = runs.loc[g["uses"].idxmax()].set_index("run")
    minutes = wide.index
    return pd.DataFrame(
        {
            "channel": channel,
            "emote": np.asarray(wide.columns)[peak_row["emote_i"].to_numpy()],
            "started_at": minutes[first.loc[peak_row.index].to_numpy()],
            "fired_at": minutes[fired.loc[peak_row.index].to_numpy()],
            "ended_at": minutes[last.loc[peak_row.index].to_numpy()] + _MINUTE,
            "peak_at": minutes[peak_row["minute"].to_numpy()],
            "peak_uses": peak_row["uses"].astype(int).to_numpy(),
            "baseline_uses": peak_row["expected"].round(2).to_numpy(),
            "score": best.loc[peak_row.index].round(2).to_numpy(),
        }
    )


def _stable_ids(*cols: pd.Series) -> list[str]:
    keys = pd.concat([c.astype(str) for c in cols], axis=1).agg("|".join, axis=1)
    return ["b-" + hashlib.blake2b(k.encode(), digest_size=8).hexdigest() for k in keys]


# --------------------------------------------------------------------------------------------
# Context and evaluation
# --------------------------------------------------------------------------------------------


def rate_spikes(
    message_counts: pd.DataFrame, *, window: int = 30, z_on: float = 5.0, min_ratio: float = 2.0
) -> pd.DataFrame:
    """Chat-wide message-rate spikes, same detector on `messages` as a pseudo emote."""
    counts = message_counts.rename(columns={"messages": "uses"}).assign(emote="__messages__")
    spikes = detect_bursts(
        cast(pd.DataFrame, counts[["channel", "emote", "minute_start", "uses"]]),
        window=window,
        z_on=z_on,
        min_uses=5,
        min_ratio=min_ratio,
    )
    return spikes


def nearby_events(
    bursts: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    message_counts: pd.DataFrame | None = None,
    window_minutes: float = 2.0,
) -> pd.DataFrame:
    """Correlate each burst with what happened within +-`window_minutes` of its [start, end].

    `events`: (channel, event_type, occurred_at[, detail]) e.g. sub/resub/raid/timeout/ban rows
    from the event mart. Message-rate spikes (from `message_counts`) and other bursts are added
    as `related_type` 'rate_spike' and 'burst'. Output: `NEARBY_COLUMNS`, offset_seconds is
    related_at - burst peak (negative = before the peak).
    """
    parts: list[pd.DataFrame] = []
    if events is not None and not events.empty:
        ev = events.rename(columns={"event_type": "related_type", "occurred_at": "related_at"})
        if "detail" not in ev:
            ev = ev.assign(detail=None)
        parts.append(ev[["channel", "related_type", "related_at", "detail"]].assign(src_id=None))
    if message_counts is not None and not message_counts.empty:
        spikes = rate_spikes(message_counts)
        parts.append(
            pd.DataFrame(
                {
                    "channel": spikes["channel"],
                    "related_type": "rate_spike",
                    "related_at": spikes["peak_at"],
                    "detail": spikes["peak_uses"].astype(str) + " msg/min",
                    "src_id": None,
                }
            )
        )
    parts.append(
        pd.DataFrame(
            {
                "channel": bursts["channel"],
                "related_type": "burst",
                "related_at": bursts["peak_at"],
                "detail": bursts["emote"],
                "src_id": bursts["burst_id"],
            }
        )
    )
    related = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    if bursts.empty or related.empty:
        return pd.DataFrame(columns=NEARBY_COLUMNS)
    related["related_at"] = pd.to_datetime(related["related_at"], utc=True)
    pad = pd.Timedelta(minutes=window_minutes)
    left, right = _window_join(
        cast(pd.Series, bursts["channel"]),
        cast(pd.Series, bursts["started_at"] - pad),
        cast(pd.Series, bursts["ended_at"] + pad),
        cast(pd.Series, related["channel"]),
        cast(pd.Series, related["related_at"]),
    )
    b = bursts.iloc[left].reset_index(drop=True)
    r = related.iloc[right].reset_index(drop=True)
    keep = (r["src_id"] != b["burst_id"]).to_numpy()  # a burst is not its own neighbour
    pairs = pd.DataFrame(
        {
            "burst_id": b["burst_id"],
            "channel": b["channel"],
            "related_type": r["related_type"],
            "related_at": r["related_at"],
            "offset_seconds": (r["related_at"] - b["peak_at"]).dt.total_seconds(),
            "detail": r["detail"],
        }
    )
    out = cast(pd.DataFrame, pairs[keep])
    return out.sort_values(["burst_id", "related_at"], ignore_index=True)


def _window_join(
    left_channel: pd.Series,
    left_lo: pd.Series,
    left_hi: pd.Series,
    right_channel: pd.Series,
    right_at: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) with same channel and left_lo[i] <= right_at[j] <= left_hi[i].

    Sorted search on a (channel code, epoch second) composite key: O((n + m) log m + pairs).
    """
    cats = pd.Index(pd.unique(pd.concat([left_channel, right_channel]).astype(str)))
    offset = np.int64(10**11)  # > any epoch second for the next ~1,000 years

    def key(ch: pd.Series, ts: pd.Series) -> np.ndarray:
        secs = pd.to_datetime(ts, utc=True).astype("int64").to_numpy() // 10**9
        return cats.get_indexer(ch.astype(str)).astype(np.int64) * offset + secs

    rkey = key(right_channel, right_at)
    order = np.argsort(rkey, kind="stable")
    rsorted = rkey[order]
    lo = np.searchsorted(rsorted, key(left_channel, left_lo), side="left")
    hi = np.searchsorted(rsorted, key(left_channel, left_hi), side="right")
    n = np.maximum(hi - lo, 0)
    left_idx = np.repeat(np.arange(len(n)), n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return left_idx, order[np.repeat(lo, n) + within]


def evaluate_bursts(
    detected: pd.DataFrame, truth: pd.DataFrame, *, tolerance_minutes: float = 2.0
) -> dict[str, float]:
    """Precision/recall: a detection matches a truth burst of the same (channel, emote) whose
    [started_at, ended_at] overlaps the detection's interval widened by the tolerance."""
    if detected.empty or truth.empty:
        return {
            "precision": 1.0 if detected.empty else 0.0,
            "recall": 1.0 if truth.empty else 0.0,
            "f1": 0.0,
            "tp": 0.0,
            "fp": float(len(detected)),
            "fn": float(len(truth)),
        }
    det = detected.reset_index(drop=True).assign(_d=lambda d: np.arange(len(d)))
    tru = truth.reset_index(drop=True).assign(_t=lambda d: np.arange(len(d)))
    pairs = det.merge(tru, on=["channel", "emote"], suffixes=("", "_truth"))
    tol = pd.Timedelta(minutes=tolerance_minutes)
    hit = (pairs["started_at"] - tol < pairs["ended_at_truth"]) & (
        pairs["ended_at"] + tol > pairs["started_at_truth"]
    )
    matched_det = pairs.loc[hit, "_d"].nunique()
    matched_truth = pairs.loc[hit, "_t"].nunique()
    precision = matched_det / len(det)
    recall = matched_truth / len(tru)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "tp": float(matched_truth),
        "fp": float(len(det) - matched_det),
        "fn": float(len(tru) - matched_truth),
    }


# --------------------------------------------------------------------------------------------
# Evaluation on the project's chat generator (ingestion/generator.py knows its burst times)
# --------------------------------------------------------------------------------------------


def generated_chat_frames(
    channels: Sequence[str], start: pd.Timestamp | str, hours: int, *, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Messages and injected-burst truth from `ingestion.generator.ChatGenerator`.

    The raw IRC lines go through the project's own IRC parser. Native emotes come from the
    `emotes` tag; third-party emotes are whitespace tokens matched exactly against the
    generator's BTTV/FFZ/7TV codes, as the warehouse does with catalogs. Truth:
    (channel, emote, started_at, ended_at).
    """
    from datetime import datetime

    from ingestion.events import ChatEvent, EventType
    from ingestion.generator import THIRD_PARTY_EMOTES, ChatGenerator
    from ingestion.irc import parse_lines

    begin = pd.Timestamp(start)
    begin = begin.tz_localize("UTC") if begin.tzinfo is None else begin.tz_convert("UTC")
    when = cast("datetime", begin.to_pydatetime())
    chat = ChatGenerator(list(channels), when, hours, seed=seed).generate()
    third = {code for codes in THIRD_PARTY_EMOTES.values() for code in codes}
    rows: list[tuple[Any, ...]] = []
    for lines in chat.lines_by_channel.values():
        for event in parse_lines(line.encode("utf-8") for line in lines):
            if not isinstance(event, ChatEvent) or event.event_type != EventType.MESSAGE:
                continue
            text = event.text or ""
            emotes = [o.code for o in event.emotes] + [t for t in text.split() if t in third]
            rows.append((event.channel, event.sent_at, event.user_login, text, emotes))
    messages = pd.DataFrame(rows, columns=["channel", "sent_at", "user_login", "text", "emotes"])
    messages["sent_at"] = pd.to_datetime(messages["sent_at"], utc=True)
    truth = pd.DataFrame(
        {
            "channel": [b.channel for b in chat.bursts],
            "emote": [b.emote for b in chat.bursts],
            "started_at": pd.to_datetime([b.started_at for b in chat.bursts], utc=True),
            "ended_at": pd.to_datetime([b.ended_at for b in chat.bursts], utc=True),
        }
    )
    return messages, truth


def evaluate_on_generator(
    channels: Sequence[str] = ("alpha", "beta", "gamma"),
    *,
    hours: int = 6,
    seeds: Sequence[int] = (1, 2, 3),
    start: str = "2025-03-01T18:00:00Z",
    tolerance_minutes: float = 2.0,
) -> dict[str, float]:
    """Pooled precision/recall of `detect_bursts` on generator chat with injected bursts."""
    detected: list[pd.DataFrame] = []
    truths: list[pd.DataFrame] = []
    for seed in seeds:
        messages, truth = generated_chat_frames(channels, start, hours, seed=seed)
        # Each seed is a separate world: keep channels apart across seeds.
        tag = f"#{seed}"
        messages["channel"] = messages["channel"] + tag
        truth["channel"] = truth["channel"] + tag
        found = detect_bursts(emote_minute_counts(messages), message_minute_counts(messages))
        detected.append(found)
        truths.append(truth)
    result = evaluate_bursts(
        pd.concat(detected, ignore_index=True),
        pd.concat(truths, ignore_index=True),
        tolerance_minutes=tolerance_minutes,
    )
    result["truth_bursts"] = float(sum(len(t) for t in truths))
    result["detected_bursts"] = float(sum(len(d) for d in detected))
    return result
