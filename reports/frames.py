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


def top_rows_per_channel(df: pd.DataFrame, by: str, n: int) -> list[dict[str, Any]]:
    """Each channel's first `n` rows by `by` (descending), in that order overall. Rows outside
    the first `n` overall carry `overflow`: the page shows them only when their channel is
    picked, so a quiet channel's table is not empty under a busy one's."""
    ordered = df.sort_values(by, ascending=False, kind="stable")
    kept = ordered.groupby("channel", sort=False).head(n)
    rows = records(kept)
    for position, row in enumerate(rows):
        row["overflow"] = position >= n
    return rows
