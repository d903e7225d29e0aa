"""Hype prediction: will the next minute of chat be unusually busy for this stream?

Unit: one (channel, stream_id, 1-minute window). Features use only this and earlier windows of the
same stream (causal), and none looks further back than `LOOKBACK_MINUTES`: "the stream's normal"
is its last three hours, not everything since it began. So the features of any minute are fixed
by the `FEATURE_HISTORY` before it, and an hour is scored from a bounded read whatever the
length of the stream or of the history (and identically whichever range it is run in).
Label (documented choice): `is_hype_label` = the NEXT minute's message count is above the
stream's running 90th percentile of minute counts over that lookback *as known at this minute*.
Causal labels mean a live stream gets a label one minute later without waiting for the stream to
end, and the threshold never uses the future. The first `WARMUP_MINUTES` of a stream and its last
minute have no label (NaN).

Baselines (what the model must beat), both from the current minute alone: the rule "the current
rate is above the stream's running 90th percentile" (a yes/no prediction, the issue's baseline),
and the stronger ranking of minutes by current rate over that percentile (`rate_rel_p90`).
Model: scikit-learn HistGradientBoostingClassifier with a fixed seed, trained on earlier streams
and tested on later ones (`time_split`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score
from threadpoolctl import threadpool_limits

MODEL_VERSION = "hype-1.3.0"
WARMUP_MINUTES = 10
HYPE_QUANTILE = 0.9
LOOKBACK_MINUTES = 180
# A feature looks back at most LOOKBACK_MINUTES, at statistics that themselves look back as far
# (minutes since the rate passed its running p90), plus a few lags: this much earlier chat fixes
# every feature of a minute.
FEATURE_HISTORY = timedelta(minutes=2 * LOOKBACK_MINUTES + 15)
# Minutes a weekly fit reads and fills at most (whole channels, a fixed pseudo-random choice):
# bounds its memory and time however many channels the warehouse holds. Counted on the filled
# per-stream grids: in the bench, 250 k chatty minutes filled to weeks of silent ones took
# 141 s and 2.3 GB.
TRAINING_MAX_MINUTES = 250_000

BASE_FEATURES = [
    "rate",
    "rate_lag1",
    "rate_lag2",
    "accel",
    "accel_lag1",
    "rate_mean5",
    "rate_max5",
    "rate_mean15",
    "rate_ewm",
    "chatters",
    "chatters_per_message",
    "chatters_accel",
    "emote_share",
    "emote_share_delta",
    "burst_active",
    "rate_rel_median",
    "rate_rel_p90",
    "mean5_rel_median",
    "mean5_rel_p90",
    "minutes_since_hype",
    "minute_index",
    "rel_p90_lag1",
    "rel_p90_lag2",
    "hot_minutes10",
    "max5_rel_p90",
    "ewm_rel_p90",
    "median_rel_p90",
]
OPTIONAL_FEATURES = [
    "sentiment",
    "sentiment_delta",
    "tail_rate",
    "tail_rel_rate",
    "tail_rel_p90",
    "tail10_rel_p90",
    "tail_emote_share",
]
TAIL_SECONDS = 20  # the last seconds of a minute: the freshest rate known at prediction time
PREDICTION_COLUMNS = [
    "channel",
    "stream_id",
    "window_start",
    "hype_probability",
    "is_hype_label",
    "model_version",
]


def minute_activity(messages: pd.DataFrame, bursts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-minute activity per stream from a message frame.

    `messages`: (channel, stream_id, sent_at, user_login, emotes(list)[, sentiment]).
    `bursts` (optional, from `ml.bursts.detect_bursts`): counts active bursts per minute.
    Output: (channel, stream_id, minute_start, messages, chatters, emote_messages[, sentiment],
    burst_active) with every minute between a stream's first and last message present (0-filled).
    """
    minute_start = messages["sent_at"].dt.floor("min")
    second = (messages["sent_at"] - minute_start).dt.total_seconds()
    has_emote = messages["emotes"].str.len().fillna(0) > 0
    df = messages.assign(
        minute_start=minute_start,
        has_emote=has_emote,
        in_tail=second >= 60 - TAIL_SECONDS,
        in_tail10=second >= 50,
        tail_emote=(second >= 60 - TAIL_SECONDS) & has_emote,
    )
    aggs: dict[str, Any] = {
        "messages": ("sent_at", "size"),
        "chatters": ("user_login", "nunique"),
        "emote_messages": ("has_emote", "sum"),
        "tail_messages": ("in_tail", "sum"),
        "tail10_messages": ("in_tail10", "sum"),
        "tail_emote_messages": ("tail_emote", "sum"),
    }
    if "sentiment" in df:
        aggs["sentiment"] = ("sentiment", "mean")
    keys = ["channel", "stream_id", "minute_start"]
    per_min = df.groupby(keys, sort=True).agg(**aggs).reset_index()
    per_min = _fill_minutes(per_min)
    per_min["burst_active"] = 0
    if bursts is not None and not bursts.empty:
        per_min["burst_active"] = _active_bursts(per_min, bursts)
    return per_min


_TAIL_COLUMNS = ("tail_messages", "tail10_messages", "tail_emote_messages")


def _fill_minutes(per_min: pd.DataFrame) -> pd.DataFrame:
    """Insert the silent minutes of each stream (0 messages) so lags mean 'previous minute'."""
    bounds = per_min.groupby(["channel", "stream_id"], sort=False)["minute_start"].agg(
        ["min", "max"]
    )
    n = ((bounds["max"] - bounds["min"]) // pd.Timedelta(minutes=1)).astype(int).to_numpy() + 1
    idx = np.repeat(np.arange(len(bounds)), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    grid = pd.DataFrame(
        {
            "channel": bounds.index.get_level_values(0).to_numpy()[idx],
            "stream_id": bounds.index.get_level_values(1).to_numpy()[idx],
            "minute_start": pd.DatetimeIndex(bounds["min"])[idx]
            + pd.to_timedelta(offs, unit="min"),
        }
    )
    out = grid.merge(per_min, on=["channel", "stream_id", "minute_start"], how="left")
    fill = [c for c in ("messages", "chatters", "emote_messages", *_TAIL_COLUMNS) if c in out]
    out[fill] = out[fill].fillna(0)
    return out


def _active_bursts(per_min: pd.DataFrame, bursts: pd.DataFrame) -> np.ndarray:
    """Bursts running at each minute, counted from when they became known (`fired_at`): the
    minutes of a run before it fired are a burst only in hindsight, sometimes by the very next
    minute, which is what the label is about."""
    # Minute-level interval expansion of bursts (few rows), then a hash join on the minute.
    n = ((bursts["ended_at"] - bursts["fired_at"]) // pd.Timedelta(minutes=1)).clip(lower=1)
    n = n.astype(int).to_numpy()
    idx = np.repeat(np.arange(len(bursts)), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    expanded = pd.DataFrame(
        {
            "channel": bursts["channel"].to_numpy()[idx],
            "minute_start": pd.DatetimeIndex(bursts["fired_at"])[idx]
            + pd.to_timedelta(offs, unit="min"),
        }
    )
    active = cast(pd.Series, expanded.groupby(["channel", "minute_start"]).size()).rename("n")
    joined = per_min[["channel", "minute_start"]].join(active, on=["channel", "minute_start"])
    return joined["n"].fillna(0).astype(int).to_numpy()


def build_features(minutes: pd.DataFrame) -> pd.DataFrame:
    """Causal features and the label per (channel, stream_id, minute_start).

    Input: `minute_activity` output (columns beyond messages are optional: chatters,
    emote_messages, burst_active, sentiment). Output: keys + `BASE_FEATURES` (+ sentiment features
    when present) + `is_hype_label` (float, NaN where unknown) + `stream_start`.
    """
    df = minutes.sort_values(["channel", "stream_id", "minute_start"], ignore_index=True)
    g = df.groupby(["channel", "stream_id"], sort=False)
    rate = df["messages"].astype(float)
    out = cast(pd.DataFrame, df[["channel", "stream_id", "minute_start"]]).copy()
    out["stream_start"] = g["minute_start"].transform("min")
    position = g.cumcount()
    out["minute_index"] = position.clip(upper=LOOKBACK_MINUTES)
    out["rate"] = rate
    gr = rate.groupby([df["channel"], df["stream_id"]], sort=False)
    out["rate_lag1"] = gr.shift(1).fillna(0)
    out["rate_lag2"] = gr.shift(2).fillna(0)
    out["accel"] = rate - out["rate_lag1"]
    out["accel_lag1"] = out["rate_lag1"] - out["rate_lag2"]
    out["rate_mean5"] = gr.rolling(5, min_periods=1).mean().to_numpy()
    out["rate_max5"] = gr.rolling(5, min_periods=1).max().to_numpy()
    out["rate_mean15"] = gr.rolling(15, min_periods=1).mean().to_numpy()
    out["rate_ewm"] = gr.transform(lambda s: s.ewm(halflife=2.0).mean())
    chatters = df["chatters"].astype(float) if "chatters" in df else rate
    out["chatters"] = chatters
    out["chatters_per_message"] = chatters / rate.clip(lower=1)
    out["chatters_accel"] = chatters - chatters.groupby(
        [df["channel"], df["stream_id"]], sort=False
    ).shift(1).fillna(0)
    emote_msgs = df["emote_messages"].astype(float) if "emote_messages" in df else rate * 0
    share = emote_msgs / rate.clip(lower=1)
    out["emote_share"] = share
    out["emote_share_delta"] = share - share.groupby(
        [df["channel"], df["stream_id"]], sort=False
    ).shift(1).fillna(0)
    out["burst_active"] = df["burst_active"].astype(float) if "burst_active" in df else 0.0
    # Running stream statistics over the lookback up to and including this minute (known now,
    # never the future). Minutes are contiguous per stream, so a count window is a time window.
    running = gr.rolling(LOOKBACK_MINUTES, min_periods=1)
    run_median = running.median().to_numpy()
    run_p90 = running.quantile(HYPE_QUANTILE).to_numpy()
    out["rate_rel_median"] = rate / np.maximum(run_median, 1.0)
    out["rate_rel_p90"] = rate / np.maximum(run_p90, 1.0)
    out["mean5_rel_median"] = out["rate_mean5"] / np.maximum(run_median, 1.0)
    out["mean5_rel_p90"] = out["rate_mean5"] / np.maximum(run_p90, 1.0)
    p90_floor = np.maximum(run_p90, 1.0)
    rel = cast(pd.Series, out["rate_rel_p90"])
    grel = rel.groupby([df["channel"], df["stream_id"]], sort=False)
    out["rel_p90_lag1"] = grel.shift(1).fillna(0)
    out["rel_p90_lag2"] = grel.shift(2).fillna(0)
    hot = (rel > 1).astype(float).groupby([df["channel"], df["stream_id"]], sort=False)
    out["hot_minutes10"] = hot.rolling(10, min_periods=1).sum().to_numpy()
    out["max5_rel_p90"] = out["rate_max5"] / p90_floor
    out["ewm_rel_p90"] = out["rate_ewm"] / p90_floor
    out["median_rel_p90"] = np.maximum(run_median, 1.0) / p90_floor  # stream's burstiness
    # Minutes since the rate last exceeded the running p90 (hype tends to cluster); 999 when not
    # within the lookback.
    above = (rate > run_p90) & (out["minute_index"] >= WARMUP_MINUTES)
    last = position.where(above).groupby([df["channel"], df["stream_id"]]).ffill()
    since = (position - last).astype(float)
    out["minutes_since_hype"] = since.where(since <= LOOKBACK_MINUTES, 999.0)
    if "tail_messages" in df:
        # Sub-minute freshness: the rate over the minute's last seconds, scaled to a full minute.
        tail = df["tail_messages"].astype(float) * (60.0 / TAIL_SECONDS)
        out["tail_rate"] = tail
        out["tail_rel_rate"] = tail / rate.clip(lower=1)
        out["tail_rel_p90"] = tail / np.maximum(run_p90, 1.0)
        if "tail10_messages" in df:
            out["tail10_rel_p90"] = (
                df["tail10_messages"].astype(float) * 6.0 / np.maximum(run_p90, 1.0)
            )
        if "tail_emote_messages" in df:
            out["tail_emote_share"] = df["tail_emote_messages"].astype(float) / df[
                "tail_messages"
            ].astype(float).clip(lower=1)
    if "sentiment" in df:
        sent = df["sentiment"].astype(float)
        out["sentiment"] = sent
        out["sentiment_delta"] = sent - sent.groupby(
            [df["channel"], df["stream_id"]], sort=False
        ).shift(1)
    nxt = gr.shift(-1)
    label = (nxt > run_p90).astype(float)
    label[nxt.isna() | (out["minute_index"] < WARMUP_MINUTES)] = np.nan
    out["is_hype_label"] = label
    return out


def feature_columns(features: pd.DataFrame) -> list[str]:
    return BASE_FEATURES + [c for c in OPTIONAL_FEATURES if c in features]


@dataclass
class HypeModel:
    estimator: HistGradientBoostingClassifier
    features: list[str]
    model_version: str = MODEL_VERSION
    trained_on: dict[str, Any] = field(default_factory=dict)


def train_hype(features: pd.DataFrame, *, seed: int = 0, n_threads: int | None = 1) -> HypeModel:
    """Fit on labelled windows; deterministic (fixed seed, no early stopping).

    `n_threads=1` by default: on small shared hosts OpenMP contention made fitting ~4x slower.
    """
    labelled = cast(pd.DataFrame, features[features["is_hype_label"].notna()])
    # A feature with no value at all (e.g. sentiment before any was scored) would crash the
    # histogram binning; leave it out of the model, which then never asks for it.
    cols = [c for c in feature_columns(features) if bool(labelled[c].notna().any())]
    est = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        # sklearn is unannotated: pyright infers `early_stopping: str` from its default "auto".
        early_stopping=False,  # pyright: ignore[reportArgumentType]
        random_state=seed,
    )
    with threadpool_limits(n_threads):
        est.fit(labelled[cols], labelled["is_hype_label"].astype(int))
    info = {
        "windows": len(labelled),
        "streams": int(
            cast(pd.DataFrame, labelled[["channel", "stream_id"]]).drop_duplicates().shape[0]
        ),
        "prevalence": float(cast(pd.Series, labelled["is_hype_label"]).mean()),
    }
    return HypeModel(est, cols, trained_on=info)


def predict(features: pd.DataFrame, model: HypeModel) -> pd.DataFrame:
    """`PREDICTION_COLUMNS`: hype_probability for the minute after `window_start`."""
    proba = model.estimator.predict_proba(features[model.features])[:, 1]
    label = features.get("is_hype_label", np.nan)
    return pd.DataFrame(
        {
            "channel": features["channel"].to_numpy(),
            "stream_id": features["stream_id"].to_numpy(),
            "window_start": features["minute_start"].to_numpy(),
            "hype_probability": proba,
            "is_hype_label": pd.array(np.asarray(label, dtype=float), dtype="Float64").astype(
                "boolean"
            ),
            "model_version": model.model_version,
        }
    )


def time_split(
    features: pd.DataFrame, *, test_fraction: float = 0.3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier streams train, later streams test (by stream start, across channels)."""
    starts = cast(
        pd.Series, features.groupby(["channel", "stream_id"])["stream_start"].first()
    ).sort_values(kind="stable")
    cut = round(len(starts) * (1 - test_fraction))
    train_keys = starts.index[:cut]
    key = pd.MultiIndex.from_frame(cast(pd.DataFrame, features[["channel", "stream_id"]]))
    in_train = key.isin(train_keys)
    return cast(pd.DataFrame, features[in_train]), cast(pd.DataFrame, features[~in_train])


def evaluate_hype(
    features: pd.DataFrame, *, test_fraction: float = 0.3, seed: int = 0, resamples: int = 200
) -> dict[str, float]:
    """Train on earlier streams; PR-AUC (average precision) on later ones against both baselines.

    `*_low`/`*_high`: the 5th/95th percentiles of each ratio over `resamples` bootstrap resamples
    of the test streams (whole streams, since a stream's minutes are not independent).
    """
    train, test = time_split(features, test_fraction=test_fraction)
    model = train_hype(train, seed=seed)
    test = cast(pd.DataFrame, test[test["is_hype_label"].notna()])
    y = test["is_hype_label"].astype(int).to_numpy()
    scores = {
        "model": model.estimator.predict_proba(test[model.features])[:, 1],
        "rule": (test["rate_rel_p90"].to_numpy() > 1.0).astype(float),
        "ranking": test["rate_rel_p90"].to_numpy(),
    }
    pr = {name: float(average_precision_score(y, s)) for name, s in scores.items()}
    stream = pd.MultiIndex.from_frame(cast(pd.DataFrame, test[["channel", "stream_id"]]))
    codes, _ = pd.factorize(stream)
    rows_of = [np.flatnonzero(codes == k) for k in range(int(codes.max()) + 1)]
    rng = np.random.default_rng(seed)
    boot: dict[str, list[float]] = {"rule": [], "ranking": []}
    for _ in range(resamples):
        idx = np.concatenate([rows_of[k] for k in rng.integers(0, len(rows_of), len(rows_of))])
        if y[idx].any():
            ap = {n: average_precision_score(y[idx], s[idx]) for n, s in scores.items()}
            for name in boot:
                boot[name].append(ap["model"] / ap[name])
    out = {
        "pr_auc_model": pr["model"],
        "pr_auc_rule": pr["rule"],
        "pr_auc_ranking": pr["ranking"],
        "prevalence_test": float(y.mean()),
        "test_windows": float(len(y)),
        "train_windows": float(model.trained_on["windows"]),
        "train_streams": float(model.trained_on["streams"]),
        "test_streams": float(len(rows_of)),
    }
    for name, ratios in boot.items():
        out[f"ratio_vs_{name}"] = pr["model"] / pr[name] if pr[name] else float("inf")
        out[f"ratio_vs_{name}_low"] = float(np.percentile(ratios, 5))
        out[f"ratio_vs_{name}_high"] = float(np.percentile(ratios, 95))
    return out


def synthetic_hype_minutes(
    seed: int, *, n_streams: int = 40, minutes: int = 150, events_per_stream: int = 6
) -> pd.DataFrame:
    """Deterministic `minute_activity`-shaped data where the predictive signal is known.

    Each stream has its own scale and an AR(1) log-rate. Hype events: for 2 minutes before the
    jump, emote share and distinct chatters rise while the rate barely moves (the precursor a
    model can learn and the current-rate baseline cannot see); then the rate jumps 2.5-4x for 1-3
    minutes. Decoys: one-minute rate spikes with no precursor and no follow-up, which fool the
    current-rate baseline.
    """
    rng = np.random.default_rng(seed)
    frames = []
    start = pd.Timestamp("2025-01-01T18:00:00Z")
    for s in range(n_streams):
        scale = float(np.exp(rng.uniform(np.log(8), np.log(80))))
        mult = np.exp(lfilter([1.0], [1.0, -0.8], rng.normal(0, 0.1, minutes)))  # AR(1)
        share = np.clip(rng.normal(0.25, 0.04, minutes), 0.05, 0.9)
        chat_ratio = np.clip(rng.normal(0.7, 0.05, minutes), 0.2, 1.0)
        onsets = rng.choice(np.arange(WARMUP_MINUTES + 5, minutes - 5), events_per_stream, False)
        for t0 in onsets:
            share[t0 - 2 : t0] += rng.uniform(0.25, 0.4)
            chat_ratio[t0 - 2 : t0] = np.minimum(chat_ratio[t0 - 2 : t0] + 0.2, 1.0)
            length = int(rng.integers(1, 4))
            mult[t0 : t0 + length] *= rng.uniform(2.5, 4.0)
            share[t0 : t0 + length] += 0.2
        for t0 in rng.choice(np.arange(WARMUP_MINUTES, minutes - 2), events_per_stream, False):
            mult[t0] *= rng.uniform(2.5, 4.0)  # decoy
        rate = rng.poisson(scale * mult)
        share = np.clip(share, 0, 1)
        frames.append(
            pd.DataFrame(
                {
                    "channel": f"chan{s % 4}",
                    "stream_id": f"s{s:03d}",
                    "minute_start": start
                    + pd.Timedelta(days=s)
                    + pd.to_timedelta(np.arange(minutes), unit="min"),
                    "messages": rate,
                    "chatters": rng.binomial(rate, np.clip(chat_ratio, 0, 1)),
                    "emote_messages": rng.binomial(rate, share),
                    "burst_active": 0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
