"""Moderation and toxicity: trend, actions against spikes, effectiveness, categories."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import top_rows_per_channel
from reports.site import Site

RECENT_ROWS = 40  # latest actions listed, overall and per channel


def build(site: Site, data: ReportData, colors: dict[str, str]) -> None:
    events = data.moderation
    summary = []
    for action, part in events.groupby("action_type", sort=True):
        change = part["chat_toxicity_change"].dropna().astype(float)
        summary.append(
            {
                "action_type": action,
                "count": len(part),
                "mean_change": change.mean() if len(change) else None,
                "calmer_share": (change < 0).mean() if len(change) else None,
                "median_duration": part["duration_seconds"].dropna().median(),
            }
        )
    recent = top_rows_per_channel(events, "moderated_at", RECENT_ROWS)
    site.write(
        "moderation.html",
        "moderation.html",
        title="Moderation and toxicity",
        filters={"channel": True, "dates": True},
        summary=summary,
        recent=recent,
        rows_shown=RECENT_ROWS,
        event_total=len(events),
        toxicity_chart=charts.render(
            charts.toxicity_trend(data.windows, colors), "toxicity", timeseries=True
        ),
        actions_chart=charts.render(
            charts.moderation_vs_toxicity(data.windows, colors),
            "moderation-vs-toxicity",
            timeseries=True,
        ),
        effect_chart=charts.render(charts.moderation_effect(events), "moderation-effect"),
        categories_chart=charts.render(
            charts.moderation_categories(events), "moderation-categories"
        ),
    )
