from __future__ import annotations

import numpy as np
import pandas as pd

from ml.patterns import DECILES, PATTERN_COLUMNS, name_curve, stream_curves, stream_patterns

SHAPES = {
    "early_hype": [30, 25, 15, 6, 5, 5, 4, 4, 3, 3],
    "late_climax": [3, 3, 4, 4, 5, 5, 6, 15, 25, 30],
    "steady": [10] * 10,
    "mid_lull": [16, 15, 13, 5, 3, 3, 5, 13, 14, 13],
}


# The names `name_curve` documents (ml/patterns.py module docstring).
KNOWN_PATTERNS = {"steady", "early_hype", "late_climax", "build_up", "fade_out", "mid_lull",
                  "mid_peak", "mixed"}  # fmt: skip


def _minutes() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for shape, curve in SHAPES.items():
        for i in range(4):
            rate = np.repeat(np.array(curve, float), 12) * 3  # 120-minute stream
            frames.append(
                pd.DataFrame(
                    {
                        "channel": "c",
                        "stream_id": f"{shape}-{i}",
                        "minute_start": pd.Timestamp("2025-01-01T18:00:00Z")
                        + pd.Timedelta(days=len(frames))
                        + pd.to_timedelta(np.arange(120), unit="min"),
                        "messages": rng.poisson(rate),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_a_flat_stream_with_its_session_bounds_is_flat_in_every_decile() -> None:
    """A session ends a minute after its last chat minute (`int_stream_sessions`): with those
    bounds, a 20-minute stream of even chat puts two minutes in each decile, not one too few in
    the last."""
    minutes = pd.DataFrame({"channel": "c", "stream_id": "s", "messages": 30,
                            "minute_start": pd.date_range("2025-01-01T18:00Z", periods=20,
                                                          freq="min")})  # fmt: skip
    last = minutes["minute_start"].max()
    bounded = minutes.assign(stream_start=minutes["minute_start"].min(),
                             stream_end=last + pd.Timedelta(minutes=1))  # fmt: skip
    for frame in (minutes, bounded):
        curve = stream_curves(frame)[DECILES].to_numpy()[0]
        assert np.allclose(curve, 0.1)
        assert name_curve(curve) == "steady"


def test_a_short_even_stream_has_no_empty_deciles() -> None:
    """Eight minutes of even chat: no minute starts in two of the ten deciles, yet chat ran
    through them. Each minute's messages are spread over the deciles it overlaps."""
    minutes = pd.DataFrame({"channel": "c", "stream_id": "s", "messages": 600,
                            "minute_start": pd.date_range("2025-01-01T18:00Z", periods=8,
                                                          freq="min")})  # fmt: skip
    curve = stream_curves(minutes)[DECILES].to_numpy()[0]
    assert np.allclose(curve, 0.1)
    assert name_curve(curve) == "steady"


def test_curves_sum_to_one() -> None:
    curves = stream_curves(_minutes())
    assert np.allclose(curves[DECILES].sum(axis=1), 1.0)
    assert len(curves) == 16


def test_patterns_classify_hand_built_curves() -> None:
    out = stream_patterns(stream_curves(_minutes()), n_clusters=4)
    assert list(out.columns) == PATTERN_COLUMNS
    expected = out["stream_id"].str.rsplit("-", n=1).str[0]
    assert (out["pattern"] == expected).all(), out[["stream_id", "pattern"]]
    assert (out["curve_pattern"] == expected).all()


def test_name_curve_rules() -> None:
    assert name_curve(np.arange(1, 11)) == "build_up"
    assert name_curve(np.arange(10, 0, -1)) == "fade_out"
    assert name_curve([2, 3, 5, 12, 16, 16, 12, 5, 3, 2]) == "mid_peak"


def test_real_vod_patterns(vod_dir) -> None:
    from ml.bursts import read_vod_chat, vod_paths

    messages = read_vod_chat(vod_paths(vod_dir, ["noanoelle"])[:30])
    out = stream_patterns(stream_curves(messages, time_col="sent_at", count_col="_none"))
    assert sorted(out["stream_id"]) == sorted(messages["stream_id"].unique())
    assert np.allclose(out[DECILES].sum(axis=1), 1.0)
    assert set(out["pattern"]) | set(out["curve_pattern"]) <= KNOWN_PATTERNS
    # Each curve recounted by hand: the share of the stream's messages in each tenth of
    # [VOD start, last message + 1 s), each message standing for its second, as documented.
    for row in out.itertuples():
        sent = messages.loc[messages["stream_id"] == row.stream_id, "sent_at"]
        start = messages.loc[messages["stream_id"] == row.stream_id, "stream_start"].iloc[0]
        span = (sent.max() + pd.Timedelta(seconds=1) - start).total_seconds()
        counts = np.zeros(10)
        for t in sent:
            lo = min(1.0, max(0.0, (t - start).total_seconds() / span))
            hi = min(1.0, lo + 1 / span)
            for k in range(10):
                counts[k] += max(0.0, min(hi, (k + 1) / 10) - max(lo, k / 10)) / (hi - lo)
        assert np.allclose([getattr(row, d) for d in DECILES], counts / len(sent)), row.stream_id
