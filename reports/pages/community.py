"""Community: segments per channel, loyalty and churn across streams, new vs returning."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    site.write(
        "community.html",
        "community.html",
        title="Community",
        filters={"channel": True, "dates": True},
        retention_rows=records(data.retention.sort_values(["channel", "started_at"])),
        segments_chart=charts.render(
            charts.segment_distribution(data.chatter_segments), "segment-distribution"
        ),
        retention_chart=charts.render(charts.retention(data.retention, colors), "retention"),
        returning_chart=charts.render(
            charts.new_vs_returning(data.windows, colors), "new-vs-returning", timeseries=True
        ),
    )
