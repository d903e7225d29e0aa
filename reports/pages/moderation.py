"""Moderation and toxicity: trend, actions against spikes, effectiveness, categories."""

from __future__ import annotations

from reports import charts
from reports.data import ReportData
from reports.frames import records
from reports.site import Site


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
    recent = records(events.sort_values("moderated_at", ascending=False).head(40))
    site.write(
        "moderation.html",
        "moderation.html",
        title="Moderation and toxicity",
        filters={"channel": True, "dates": True},
        summary=summary,
        recent=recent,
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
