"""Where one stream's chat ends and the next begins: two chat minutes `SESSION_GAP` or more apart
belong to different streams, as `int_stream_sessions` splits them. The hourly ML assets cannot
wait for that daily model, so they split the minutes they read by the same rule.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

SESSION_GAP = timedelta(minutes=30)


def starts_stream(minutes: pd.Index) -> np.ndarray:
    """For sorted chat minutes: True where a minute starts a stream (the first, and each one
    `SESSION_GAP` or more after the minute before it)."""
    breaks = np.ones(len(minutes), dtype=bool)
    if len(minutes) > 1:
        index = pd.DatetimeIndex(minutes)  # any resolution: compare durations, not integers
        breaks[1:] = np.asarray((index[1:] - index[:-1]) >= SESSION_GAP)
    return breaks
