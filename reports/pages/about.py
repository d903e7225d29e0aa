"""The data page: freshness (last event, build time, hours loaded), marts and privacy."""

from __future__ import annotations

import pandas as pd

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
        # Distinct UTC hours over all channels: the partitions the chart below shows.
        hours_loaded=int(
            pd.to_datetime(data.windows["window_start_at"], utc=True).dt.floor("h").nunique()
        ),
        hidden_chatters=data.hidden_chatters,
        hours_chart=charts.render(charts.hours_loaded(data.windows, colors), "hours-loaded"),
    )
