"""Overview (index.html): totals, message volume, when chat is active, top channels."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site, channel_slug


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    channels = records(data.channels)
    for row in channels:
        row["href"] = f"channels/{channel_slug(str(row['channel']))}.html"
    site.write(
        "index.html",
        "overview.html",
        title="Overview",
        totals=data.totals,
        channel_rows=channels,
        filters={"channel": True, "dates": True},
        volume_chart=charts.render(
            charts.message_volume(data.windows, colors), "volume", timeseries=True
        ),
        heatmap_chart=charts.render(charts.activity_heatmap(data.heatmap), "heatmap"),
        engagement_chart=charts.render(
            charts.channel_engagement(data.channels, colors), "engagement"
        ),
    )
