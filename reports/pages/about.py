"""The data page: freshness (last event, build time, hours loaded), marts and privacy."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    site.write(
        "data.html",
        "data.html",
        title="About the data",
        filters={"channel": False, "dates": False},
        freshness=records(data.freshness),
        mart_rows=records(data.mart_rows),
        hours_loaded=int(max(float(h or 0) for h in data.freshness["hours_loaded"]))
        if len(data.freshness)
        else 0,
        hidden_chatters=data.hidden_chatters,
        hours_chart=charts.render(charts.hours_loaded(data.windows, colors), "hours-loaded"),
    )
