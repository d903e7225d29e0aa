"""Emotes: leaderboards per provider, usage over time, bursts and what surrounded them."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site

PROVIDERS = ("twitch", "bttv", "ffz", "7tv")


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    bursts = records(data.bursts.sort_values("burst_score", ascending=False))
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
        burst_rows=bursts[:50],
        burst_total=len(bursts),
        timeline_chart=charts.render(
            charts.emote_timeline(data.emote_timeline), "emote-timeline", timeseries=True
        ),
        burst_chart=charts.render(
            charts.burst_scatter(data.bursts, colors), "bursts", timeseries=True
        ),
    )
