"""Stream shape patterns: how chat activity is spread over a stream's duration.

Per stream: messages per decile of the stream's duration, normalised to sum to 1 (`d1`..`d10`).
Each row's count is spread over the time it stands for (a minute, or a message's second) in
proportion to its overlap with each decile: a stream of a few minutes has no empty deciles
just because no minute starts in them.
Curves are clustered with KMeans (fixed seed); each cluster is named by rules on its centroid
(`name_curve`), so names do not depend on arbitrary cluster ids:
  steady       max decile <= 0.15 and min >= 0.06 (flat within noise)
  early_hype   first 3 deciles hold >= 50% of the chat (a linear ramp holds 49%)
  late_climax  last 3 deciles hold >= 50% of the chat
  build_up     rises through the stream (Spearman-like rank correlation >= 0.7)
  fade_out     falls through the stream (<= -0.7)
  mid_lull     the middle (d4-d7) is < 75% of the edges' level
  mid_peak     the middle is > 130% of the edges' level
  mixed        none of the above
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

MODEL_VERSION = "patterns-1.1.0"
DECILES = [f"d{i}" for i in range(1, 11)]
PATTERN_COLUMNS = [
    "channel",
    "stream_id",
    "stream_start",
    "stream_end",
    *DECILES,
    "cluster",
    "pattern",
    "curve_pattern",
    "distance",
    "model_version",
]


def stream_curves(
    activity: pd.DataFrame, *, time_col: str = "minute_start", count_col: str = "messages"
) -> pd.DataFrame:
    """Normalised decile curves per stream.

    `activity`: per-minute counts (channel, stream_id, minute_start, messages) or raw messages
    (pass time_col='sent_at', count_col=None-like: any column; each row then counts 1).
    Optional `stream_start`/`stream_end` (exclusive) columns override the first observed time
    and the end of the last (so silent stream starts/ends count). Output: (channel, stream_id,
    stream_start, stream_end, d1..d10).
    """
    df = activity
    g = df.groupby(["channel", "stream_id"])[time_col]
    start = cast(pd.Series, df["stream_start"] if "stream_start" in df else g.transform("min"))
    # `stream_end` is exclusive (as `int_stream_sessions` ends a stream a minute after its last
    # chat minute); without it, the last row stands for its whole minute (or second).
    width = pd.Timedelta(seconds=60 if time_col == "minute_start" else 1)
    if "stream_end" in df:
        end = cast(pd.Series, df["stream_end"])
    else:
        end = cast(pd.Series, g.transform("max")) + width
    span = (end - start).dt.total_seconds().to_numpy()
    # The row's interval [t, t + width) as fractions of the stream, clipped to it.
    lo = np.clip((df[time_col] - start).dt.total_seconds().to_numpy() / span, 0.0, 1.0)
    hi = np.clip(lo + width.total_seconds() / span, 0.0, 1.0)
    length = np.where(hi > lo, hi - lo, 1.0)  # a row at the very end keeps its weight
    weight = df[count_col].astype(float) if count_col in df else pd.Series(1.0, index=df.index)
    shares: dict[int, np.ndarray] = {}
    for k in range(10):
        overlap = np.clip(np.minimum(hi, (k + 1) / 10) - np.maximum(lo, k / 10), 0.0, None)
        last = (k == 9) & (hi <= lo)  # zero-length rows (at the end) count in the last decile
        shares[k] = weight.to_numpy() * np.where(last, 1.0, overlap / length)
    curves = cast(
        pd.DataFrame,
        pd.DataFrame({"channel": df["channel"], "stream_id": df["stream_id"], **shares})
        .groupby(["channel", "stream_id"])[list(range(10))]
        .sum(),
    )
    totals = curves.sum(axis=1).replace(0, np.nan)
    curves = curves.div(totals, axis=0).fillna(0.1)
    curves.columns = DECILES
    bounds = pd.DataFrame(
        {
            "stream_start": start,
            "stream_end": end,
            "channel": df["channel"],
            "stream_id": df["stream_id"],
        }
    )
    bounds = bounds.groupby(["channel", "stream_id"]).first()
    return bounds.join(curves).reset_index()


def name_curve(curve: np.ndarray) -> str:
    """Rule-based name of one 10-value curve (a centroid or a single stream)."""
    c = np.asarray(curve, dtype=float)
    c = c / c.sum() if c.sum() > 0 else np.full(10, 0.1)
    if c.max() <= 0.15 and c.min() >= 0.06:
        return "steady"
    if c[:3].sum() >= 0.5:
        return "early_hype"
    if c[-3:].sum() >= 0.5:
        return "late_climax"
    trend = np.corrcoef(np.arange(10), np.argsort(np.argsort(c)))[0, 1]
    if trend >= 0.7:
        return "build_up"
    if trend <= -0.7:
        return "fade_out"
    middle = c[3:7].mean()
    edges = np.r_[c[:3], c[7:]].mean()
    if middle < 0.75 * edges:
        return "mid_lull"
    if middle > 1.3 * edges:
        return "mid_peak"
    return "mixed"


def stream_patterns(curves: pd.DataFrame, *, n_clusters: int = 6, seed: int = 0) -> pd.DataFrame:
    """Cluster `stream_curves` output; `PATTERN_COLUMNS`.

    pattern: the name of the stream's cluster centroid (what the dashboard groups by);
    curve_pattern: the rule applied to the stream's own curve (sharper for odd streams);
    distance: Euclidean distance of the curve to its centroid.
    """
    x = curves[DECILES].to_numpy(float)
    if len(x) == 0:
        return pd.DataFrame(columns=PATTERN_COLUMNS)
    k = max(1, min(n_clusters, len(np.unique(x.round(6), axis=0))))
    # sklearn is unannotated: pyright infers `n_init: str` from its default "auto".
    km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(x)  # pyright: ignore[reportArgumentType]
    names = np.array([name_curve(c) for c in km.cluster_centers_])
    dist = np.linalg.norm(x - km.cluster_centers_[km.labels_], axis=1)
    out = curves.assign(
        cluster=km.labels_,
        pattern=names[km.labels_],
        curve_pattern=[name_curve(row) for row in x],  # one per stream, not per message
        distance=dist.round(4),
        model_version=MODEL_VERSION,
    )
    return cast(pd.DataFrame, out[PATTERN_COLUMNS]).reset_index(drop=True)
