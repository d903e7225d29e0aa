"""Where one stream's chat ends and the next begins: two chat minutes `SESSION_GAP` or more apart
belong to different streams, as `int_stream_sessions` splits them. The hourly ML assets cannot
wait for that daily model, so they split the minutes they read by the same rule.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

SESSION_GAP = timedelta(minutes=30)


def starts_stream(minutes: pd.Index | pd.Series, channels: pd.Series | None = None) -> np.ndarray:
    """For chat minutes sorted in time (within each channel, with `channels`, sorted by channel):
    True where a minute starts a stream (a channel's first, and each one `SESSION_GAP` or more
    after the minute before it)."""
    breaks = np.ones(len(minutes), dtype=bool)
    if len(minutes) > 1:
        index = pd.DatetimeIndex(minutes)  # any resolution: compare durations, not integers
        breaks[1:] = np.asarray((index[1:] - index[:-1]) >= SESSION_GAP)
        if channels is not None:
            names = np.asarray(channels)
            breaks[1:] |= names[1:] != names[:-1]
    return breaks
