"""The report site: built from the marts and published to a dated folder every day.

The site is built into a staging folder and swapped into `site_dir` only when every page and
the dbt catalog succeeded; only then is it copied to `<publish_dir>/<YYYY-MM-DD>/` and `latest`
repointed. Any failure raises, so the run fails loudly and the last published site stays.
"""

from datetime import UTC, datetime

import dagster as dg

from orchestration.resources import WarehouseResource
from reports.build import build_site
from reports.publish import publish_site
from twitch_warehouse.privacy import erasure_held_off
from twitch_warehouse.settings import get_settings

MARTS_READ = [
    dg.AssetKey(["marts", name])
    for name in (
        "dim_channels", "dim_chatters", "dim_channel_chatters", "fct_chat_messages",
        "fct_chat_windows", "fct_emote_usage", "fct_emote_bursts", "fct_streams",
        "fct_chatter_stream_activity", "fct_moderation_events", "fct_topics",
        "fct_stream_topic_shifts", "fct_stream_patterns", "fct_channel_signatures",
        "fct_channel_similarity", "fct_hype_predictions",
    )
]  # fmt: skip


@dg.asset(
    key=["reports", "site"],
    group_name="reports",
    deps=MARTS_READ,
    kinds={"python", "html"},
    owners=["team:analytics"],
    description="The static report site (Jinja2 + Plotly), published to a dated folder + latest.",
)
def report_site(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = get_settings()
    warehouse.export_dbt_env()  # the catalog's `dbt docs generate` reads the same database
    # A `forget` waits until the site is published, then removes the pages naming the chatter.
    with warehouse.connect() as conn, erasure_held_off(conn):
        result = build_site(conn, settings.site_dir, settings=settings)
        published = publish_site(
            result.site_dir, settings.report_publish_dir,
            day=datetime.now(UTC).date(), keep_days=settings.publish_keep_days,
        )  # fmt: skip
    context.log.info(f"built {len(result.pages)} pages in {result.seconds:.2f}s -> {published}")
    return dg.MaterializeResult(
        metadata={
            "pages": dg.MetadataValue.int(len(result.pages)),
            "page_list": dg.MetadataValue.json(result.pages),
            "site_bytes": dg.MetadataValue.int(result.size_bytes),
            "build_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
            "site": dg.MetadataValue.path(str(result.site_dir / "index.html")),
            "published": dg.MetadataValue.path(str(published)),
            "latest": dg.MetadataValue.path(str(settings.report_publish_dir / "latest")),
        }
    )
