"""Typed pandas helpers: pandas-stubs types boolean indexing loosely, the pages want DataFrames."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd


def where(df: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    return cast(pd.DataFrame, df.loc[df[column] == value])


def rows(df: pd.DataFrame, mask: Any) -> pd.DataFrame:
    return cast(pd.DataFrame, df.loc[mask])


def col(df: pd.DataFrame, name: str) -> pd.Series:
    return cast(pd.Series, df[name])


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """`df.to_dict(orient="records")`, the same values and types, built column-wise: pandas'
    version boxes every cell one at a time and took seconds over a channel's stream history."""
    columns = [str(c) for c in df.columns]
    values = (df.iloc[:, i].tolist() for i in range(len(columns)))
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


# Rows a filterable table ships at most, besides its overall top rows: with many channels each
# gets fewer, so a page stays small.
TABLE_ROW_BUDGET = 1000


def top_rows_per_channel(df: pd.DataFrame, by: str, n: int) -> list[dict[str, Any]]:
    """The overall first `n` rows by `by` (descending) and each channel's first ones (`n`, or
    fewer when many channels share `TABLE_ROW_BUDGET`, at least 3), in that order. The page shows
    the first `n` rows that pass its channel and date filters, so a quiet channel's table is not
    empty under a busy one's; rows past the overall first `n` carry `beyond` (hidden at first)."""
    ordered = df.sort_values(by, ascending=False, kind="stable")
    channels = max(col(ordered, "channel").nunique(), 1)
    per_channel = min(n, max(3, TABLE_ROW_BUDGET // channels))
    ranks = ordered.groupby("channel", sort=False).cumcount()
    position = pd.Series(range(len(ordered)), index=ordered.index)
    shipped = records(rows(ordered, (ranks < per_channel) | (position < n)))
    for index, row in enumerate(shipped):
        row["beyond"] = index >= n
    return shipped
