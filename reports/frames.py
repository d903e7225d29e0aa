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
    return cast(list[dict[str, Any]], df.to_dict(orient="records"))
