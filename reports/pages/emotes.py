"""Emotes: leaderboards per provider, usage over time, bursts and what surrounded them."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import top_rows_per_channel
from reports.site import Site

PROVIDERS = ("twitch", "bttv", "ffz", "7tv")
BURST_ROWS = 50  # strongest bursts listed, overall and per channel


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    bursts = top_rows_per_channel(data.bursts, "burst_score", BURST_ROWS)
    for row in bursts:
        row["href"] = site.stream_pages.get(str(row["stream_id"]))
    boards = [
        charts.render(charts.provider_leaderboard(data.emote_totals, p, colors), f"top-{p}")
        for p in PROVIDERS
    ]
    site.write(
        "emotes.html",
        "emotes.html",
        title="Emotes",
        filters={"channel": True, "dates": True},
        leaderboards=boards,
        burst_rows=bursts,
        rows_shown=BURST_ROWS,
        burst_total=len(data.bursts),
        timeline_chart=charts.render(
            charts.emote_timeline(data.emote_timeline), "emote-timeline", timeseries=True
        ),
        burst_chart=charts.render(
            charts.burst_scatter(data.bursts, colors), "bursts", timeseries=True
        ),
    )
