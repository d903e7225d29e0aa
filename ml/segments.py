"""Chatter segments: behaviour features per chatter -> scaled KMeans -> named segments.

Cluster ids are arbitrary, so names come from rules on each cluster's centroid (in original
units, checked in order) and stay stable when the data shifts:
  lurker         < 0.5 messages per attended stream (JOIN presence without chatting)
  spammer        >= 0.5 moderation actions per stream
  emote_spammer  >= 70% emote tokens and >= 3 messages per stream
  spammer        >= 40% copy-paste messages (text of >= 3 distinct words seen >= 3 times in
                 the stream; one-word reactions like "LUL" or "lol" are chat, not copypasta)
  power_user     messages per stream >= max(20, channel p90) and attends >= 30% of streams
  supporter      subscribed >= 6 months on average
  regular        attends >= 30% of the channel's streams (and >= 3 streams)
  casual         everything else
Confidence: soft assignment (softmax of negative squared distances in scaled space), summed over
the clusters that carry the same name.

Inputs: `messages` (channel, stream_id, sent_at, user_login, text[, emotes(list)]
[, subscriber_months]); optional `moderation` (channel, target_user_login[, stream_id]) and
`joins` (channel, stream_id, user_login) for lurkers.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from ml.topics import copypasta_key

MODEL_VERSION = "segments-1.1.0"
SEGMENT_COLUMNS = ["channel", "user_login", "segment", "segment_confidence", "model_version"]
STREAM_SEGMENT_COLUMNS = [
    "channel",
    "stream_id",
    "user_login",
    "segment",
    "segment_confidence",
    "model_version",
]
FIRST_MINUTES = 5  # "shows up at the start" habit
# Fewer distinct words is a reaction everyone types ("nepuLul", "W W W", "lol"): in a lively
# chat such messages repeat constantly, and counting them made a channel's regulars spammers.
COPYPASTA_MIN_WORDS = 3
_CLUSTER_FEATURES = [
    "messages_per_stream",
    "streams_attended",
    "attendance_share",
    "mean_gap_seconds",
    "emote_ratio",
    "copypaste_ratio",
    "mention_ratio",
    "first_message_habit",
    "subscriber_months",
    "moderation_per_stream",
]
_LOG_FEATURES = {
    "messages_per_stream",
    "streams_attended",
    "mean_gap_seconds",
    "subscriber_months",
    "moderation_per_stream",
}


def chatter_stream_features(
    messages: pd.DataFrame,
    *,
    moderation: pd.DataFrame | None = None,
    joins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (channel, stream_id, user_login) with per-stream behaviour counts."""
    m = messages.dropna(subset=["user_login"])
    m = m.sort_values(["channel", "stream_id", "user_login", "sent_at"], kind="stable")
    keys = ["channel", "stream_id", "user_login"]
    gap = m.groupby(keys, sort=False)["sent_at"].diff().dt.total_seconds()
    # Lowercased once for both counts (lowercasing never adds or removes whitespace).
    lowered_words = m["text"].fillna("").str.lower().str.split()
    words = lowered_words.str.len().fillna(0)
    n_emotes = m["emotes"].str.len().fillna(0) if "emotes" in m else pd.Series(0, index=m.index)
    pasta = copypasta_key(cast(pd.Series, m["text"]))
    # A copy: text (normalised) seen >= 3 times in the stream, by anyone including oneself.
    seen = cast(pd.Series, pasta.groupby([m["channel"], m["stream_id"], pasta]).transform("size"))
    distinct_words = lowered_words.map(lambda w: len(set(w)))
    stream_start = m.groupby(["channel", "stream_id"])["sent_at"].transform("min")
    early = m["sent_at"] - stream_start <= pd.Timedelta(minutes=FIRST_MINUTES)
    sub = (
        m["subscriber_months"].astype(float)
        if "subscriber_months" in m
        else pd.Series(0.0, index=m.index)
    )
    frame = pd.DataFrame(
        {
            "channel": m["channel"],
            "stream_id": m["stream_id"],
            "user_login": m["user_login"],
            "gap": gap,
            "emotes": n_emotes,
            "tokens": np.maximum(words, n_emotes),
            "copy": (seen >= 3) & (distinct_words >= COPYPASTA_MIN_WORDS),
            "mention": m["text"].fillna("").str.contains("@", regex=False),
            "early": early,
            "sub": sub.fillna(0.0),
        }
    )
    per = (
        frame.groupby(keys, sort=True)
        .agg(
            messages=("gap", "size"),
            gap_sum=("gap", "sum"),
            gap_n=("gap", "count"),
            emote_tokens=("emotes", "sum"),
            tokens=("tokens", "sum"),
            copies=("copy", "sum"),
            mentions=("mention", "sum"),
            early=("early", "any"),
            subscriber_months=("sub", "max"),
        )
        .reset_index()
    )
    if joins is not None and not joins.empty:
        j = joins[keys].drop_duplicates()
        per = per.merge(j, on=keys, how="outer")
        per = per.fillna({c: 0 for c in per.columns if c not in keys})
        per["early"] = per["early"].astype(bool)
    per["moderation"] = 0
    if moderation is not None and not moderation.empty:
        mod = moderation.rename(columns={"target_user_login": "user_login"})
        by = [k for k in keys if k in mod]
        counts = cast(pd.Series, mod.groupby(by).size()).rename("mod_n")
        per = per.join(counts, on=by)
        per["moderation"] = per.pop("mod_n").fillna(0)
    return per


# Every name `_named` gives, from least to most engaged, then the disruptive ones.
SEGMENT_NAMES = ("lurker", "casual", "regular", "supporter", "power_user", "emote_spammer",
                 "spammer")  # fmt: skip


def _named(centroids: pd.DataFrame, mps_p90: float) -> list[str]:
    names: list[str] = []
    for _, row in centroids.iterrows():  # one row per cluster (<= 10): rules read like the docs
        c = {name: float(value) for name, value in row.items()}
        if c["messages_per_stream"] < 0.5:
            names.append("lurker")
        elif c["moderation_per_stream"] >= 0.5:
            names.append("spammer")
        elif c["emote_ratio"] >= 0.7 and c["messages_per_stream"] >= 3:
            # Before the copy-paste rule: repeating the same emotes is emote spam, not a bot.
            names.append("emote_spammer")
        elif c["copypaste_ratio"] >= 0.4:
            names.append("spammer")
        elif c["messages_per_stream"] >= max(20.0, mps_p90) and c["attendance_share"] >= 0.3:
            names.append("power_user")
        elif c["subscriber_months"] >= 6:
            names.append("supporter")
        elif c["attendance_share"] >= 0.3 and c["streams_attended"] >= 3:
            names.append("regular")
        else:
            names.append("casual")
    return names


def scaled_features(features: pd.DataFrame) -> np.ndarray:
    """The clustering space: log of count-like features, then standardised per call."""
    x = cast(pd.DataFrame, features[_CLUSTER_FEATURES]).astype(float).copy()
    for col in _LOG_FEATURES:
        x[col] = np.log1p(x[col].clip(lower=0))
    return StandardScaler().fit_transform(x)


def _cluster(features: pd.DataFrame, n_clusters: int, seed: int) -> pd.DataFrame:
    """Adds `segment` and `segment_confidence`; clusters per channel."""
    parts = []
    for _, f in features.groupby("channel", sort=True):
        z = scaled_features(f)
        k = max(1, min(n_clusters, len(np.unique(z, axis=0))))
        # sklearn is unannotated: pyright infers `n_init: str` from its default "auto".
        km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(z)  # pyright: ignore[reportArgumentType]
        labels = np.asarray(km.labels_)
        centroids = cast(pd.DataFrame, f[_CLUSTER_FEATURES].groupby(labels).mean())
        mps_p90 = float(cast(pd.Series, f["messages_per_stream"]).quantile(0.9))
        names = np.array(_named(centroids, mps_p90))
        d2 = ((z[:, None, :] - km.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
        p = np.exp(-(d2 - d2.min(axis=1, keepdims=True)))
        p /= p.sum(axis=1, keepdims=True)
        seg = names[centroids.index.get_indexer(labels)]
        same = names[centroids.index.get_indexer(np.arange(k))][None, :] == seg[:, None]
        parts.append(f.assign(segment=seg, segment_confidence=np.round((p * same).sum(axis=1), 4)))
    return pd.concat(parts, ignore_index=True)


def chatter_features(per_stream: pd.DataFrame) -> pd.DataFrame:
    """Per (channel, user_login) features from `chatter_stream_features`."""
    n_streams = cast(pd.Series, per_stream.groupby("channel")["stream_id"].nunique()).rename(
        "channel_streams"
    )
    agg = (
        per_stream.groupby(["channel", "user_login"])
        .agg(
            streams_attended=("stream_id", "nunique"),
            messages=("messages", "sum"),
            gap_sum=("gap_sum", "sum"),
            gap_n=("gap_n", "sum"),
            emote_tokens=("emote_tokens", "sum"),
            tokens=("tokens", "sum"),
            copies=("copies", "sum"),
            mentions=("mentions", "sum"),
            early_streams=("early", "sum"),
            subscriber_months=("subscriber_months", "max"),
            moderation=("moderation", "sum"),
        )
        .reset_index()
        .join(n_streams, on="channel")
    )
    return _ratios(
        agg, cast(pd.Series, agg["streams_attended"]), cast(pd.Series, agg["channel_streams"])
    )


def _ratios(agg: pd.DataFrame, attended: pd.Series, total: pd.Series) -> pd.DataFrame:
    msgs = agg["messages"].clip(lower=1)
    out = agg.assign(
        messages_per_stream=agg["messages"] / attended.clip(lower=1),
        attendance_share=attended / total.clip(lower=1),
        # No second message: treat as one hour between messages (rare talker).
        mean_gap_seconds=(agg["gap_sum"] / agg["gap_n"].replace(0, np.nan)).fillna(3600.0),
        emote_ratio=(agg["emote_tokens"] / agg["tokens"].clip(lower=1)).clip(upper=1.0),
        copypaste_ratio=agg["copies"] / msgs,
        mention_ratio=agg["mentions"] / msgs,
        first_message_habit=agg["early_streams"] / attended.clip(lower=1),
        moderation_per_stream=agg["moderation"] / attended.clip(lower=1),
    )
    out["streams_attended"] = attended
    return out


def chatter_segments(
    messages: pd.DataFrame,
    *,
    moderation: pd.DataFrame | None = None,
    joins: pd.DataFrame | None = None,
    n_clusters: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """`SEGMENT_COLUMNS` plus the features used (for dashboards and debugging)."""
    per_stream = chatter_stream_features(messages, moderation=moderation, joins=joins)
    feats = chatter_features(per_stream)
    out = _cluster(feats, n_clusters, seed).assign(model_version=MODEL_VERSION)
    return cast(pd.DataFrame, out[SEGMENT_COLUMNS + _CLUSTER_FEATURES])


def chatter_stream_segments(
    messages: pd.DataFrame,
    *,
    moderation: pd.DataFrame | None = None,
    joins: pd.DataFrame | None = None,
    n_clusters: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """`STREAM_SEGMENT_COLUMNS`: the segment of each chatter in each stream, to show changes.

    Same features and naming rules, computed within one stream; attendance is causal: streams
    attended so far / channel streams so far (streams ordered by their first event).
    """
    per = chatter_stream_features(messages, moderation=moderation, joins=joins)
    order = cast(pd.Series, messages.groupby(["channel", "stream_id"])["sent_at"].min()).rename(
        "stream_start"
    )
    per = per.join(order, on=["channel", "stream_id"]).sort_values(["channel", "stream_start"])
    stream_no = cast(pd.Series, per.groupby("channel")["stream_start"].rank(method="dense"))
    attended = per.groupby(["channel", "user_login"]).cumcount() + 1
    per = per.rename(columns={"early": "early_streams"})
    per["early_streams"] = per["early_streams"].astype(float)
    feats = _ratios(per, attended, stream_no)
    out = _cluster(feats, n_clusters, seed).assign(model_version=MODEL_VERSION)
    return cast(pd.DataFrame, out[STREAM_SEGMENT_COLUMNS + _CLUSTER_FEATURES]).reset_index(
        drop=True
    )


# --------------------------------------------------------------------------------------------
# Quality (evaluation): separation and week-to-week stability
# --------------------------------------------------------------------------------------------


def silhouette(segmented: pd.DataFrame, *, max_rows: int = 5000, seed: int = 0) -> float:
    """Mean silhouette of the named segments in the clustering space, averaged per channel
    (weighted by chatters); channels with one segment are skipped. NaN when none qualifies."""
    from sklearn.metrics import silhouette_score

    total = 0.0
    weight = 0
    for _, f in segmented.groupby("channel", sort=True):
        labels = f["segment"].to_numpy()
        if len(set(labels)) < 2 or len(f) < 3:
            continue
        z = scaled_features(f)
        size = min(max_rows, len(f))
        score = float(silhouette_score(z, labels, sample_size=size, random_state=seed))
        total += score * len(f)
        weight += len(f)
    return total / weight if weight else float("nan")


def weekly_stability(
    messages: pd.DataFrame,
    *,
    n_clusters: int = 8,
    seed: int = 0,
    min_common: int = 20,
) -> pd.DataFrame:
    """Segment each calendar week (UTC, Monday start) separately and compare consecutive weeks.

    Output per (channel, week, next_week): `common_chatters` (in both weeks), `ari` (adjusted
    Rand index of their segment names: 1 = identical grouping, ~0 = chance) and `same_segment`
    (share keeping their segment name). Pairs with fewer than `min_common` shared chatters are
    dropped. Weeks need not be adjacent in the calendar: consecutive *active* weeks are paired.
    """
    from sklearn.metrics import adjusted_rand_score

    week = messages["sent_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("W-SUN")
    frame = messages.assign(_week=week.dt.start_time)
    rows: list[dict[str, object]] = []
    for channel, chan in frame.groupby("channel", sort=True):
        weeks = sorted(chan["_week"].unique())
        prev: pd.Series | None = None
        prev_week = None
        for wk in weeks:
            part = cast(pd.DataFrame, chan[chan["_week"] == wk]).drop(columns="_week")
            seg = chatter_segments(part, n_clusters=n_clusters, seed=seed)
            cur = cast(pd.Series, seg.set_index("user_login")["segment"])
            if prev is not None:
                common = prev.index.intersection(cur.index)
                if len(common) >= min_common:
                    a = prev.loc[common].to_numpy()
                    b = cur.loc[common].to_numpy()
                    rows.append(
                        {
                            "channel": channel,
                            "week": prev_week,
                            "next_week": wk,
                            "common_chatters": len(common),
                            "ari": float(adjusted_rand_score(a, b)),
                            "same_segment": float((a == b).mean()),
                        }
                    )
            prev, prev_week = cur, wk
    return pd.DataFrame(
        rows, columns=["channel", "week", "next_week", "common_chatters", "ari", "same_segment"]
    )
