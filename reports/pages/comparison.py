"""Comparison: similarity matrix, chat signatures side by side, chatter overlap."""

from __future__ import annotations

import json
from typing import Any

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site


def _top(value: Any, n: int = 5) -> list[dict[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)[:n] if isinstance(value, list) else []


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    channels = sorted(str(c) for c in data.channels["channel"])
    signatures = records(data.signatures)
    for row in signatures:
        row["top"] = _top(row["top_emotes"])
    site.write(
        "comparison.html",
        "comparison.html",
        title="Channel comparison",
        filters={"channel": False, "dates": False},
        signatures=signatures,
        pairs=records(data.similarity.sort_values("overall_similarity", ascending=False)),
        similarity_chart=charts.render(
            charts.similarity_matrix(
                data.similarity,
                channels,
                "overall_similarity",
                "Overall similarity (emote mix, chatter overlap, activity shape; 1 = identical)",
            ),
            "similarity",
        ),
        overlap_chart=charts.render(
            charts.similarity_matrix(
                data.similarity,
                channels,
                "shared_chatter_count",
                "Chatter overlap: chatters who wrote in both channels",
                unit=" chatters",
                diagonal=None,
            ),
            "overlap",
        ),
        radar_chart=charts.render(charts.signature_radar(data.signatures, colors), "signatures"),
        hours_chart=charts.render(charts.activity_by_hour(data.signatures, colors), "hours"),
    )
