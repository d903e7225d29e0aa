"""Build the static report site from the marts: offline, deterministic, fails on any error.

Every page reads the marts through `reports/queries/*.sql` (as `warehouse_reporter`, see
`reports/queries.py`) and renders a Jinja2 template with Plotly figures. plotly.js is copied from
the Plotly wheel into the site, so the pages work from `file://` or any static server with no
request leaving the machine. The site is built beside `out_dir` and swapped in only when every
page, and the dbt catalog, succeeded.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import plotly
import psycopg

from reports import charts, data
from reports.catalog import generate_catalog
from reports.pages import about, channels, community, comparison, emotes, moderation, overview
from reports.privacy import NAMED_FILE, ChatterPrivacy
from reports.queries import load_optouts, reporter_role
from reports.site import Site, channel_slug, environment, latest_stream_pages, utc_text
from twitch_warehouse.settings import Settings, get_settings

__all__ = ["BuildResult", "build_site", "channel_slug"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_MODULES = (overview, channels, emotes, community, moderation, comparison, about)


@dataclass
class BuildResult:
    site_dir: Path
    pages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.site_dir.rglob("*") if p.is_file())


def build_site(
    conn: psycopg.Connection,
    out_dir: Path,
    *,
    settings: Settings | None = None,
    catalog: Path | None = None,
) -> BuildResult:
    """Render every page into `out_dir` (built beside it, then swapped in).

    `catalog` is a ready dbt docs page to copy (tests reuse one); by default dbt generates it.
    """
    settings = settings or get_settings()
    began = time.perf_counter()
    staging = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "assets").mkdir(parents=True)
    try:
        shutil.copy(
            Path(plotly.__file__).parent / "package_data" / "plotly.min.js", staging / "assets"
        )
        for asset in STATIC_DIR.iterdir():
            shutil.copy(asset, staging / "assets")

        privacy = ChatterPrivacy(
            key=settings.pseudonym_secret(),
            show_logins=settings.show_chatter_logins,
            optouts=load_optouts(conn),  # before dropping privileges: see reports/queries.py
        )
        with reporter_role(conn):
            report, privacy = data.load(conn, privacy)
        pages = _render(staging, report, privacy, settings.report_stream_pages)
        channels = [str(c) for c in report.channels["channel"]]
        (staging / NAMED_FILE).write_text("\n".join(privacy.named_pseudonyms(channels)) + "\n")

        if catalog is None:
            generate_catalog(staging / "catalog" / "index.html", database=conn.info.dbname)
        else:
            (staging / "catalog").mkdir()
            shutil.copy(catalog, staging / "catalog" / "index.html")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return BuildResult(out_dir, pages, time.perf_counter() - began)


def _render(
    staging: Path, report: data.ReportData, privacy: ChatterPrivacy, stream_pages: int
) -> list[str]:
    names = [str(c) for c in report.channels["channel"]]
    first, last = report.totals["first_seen_at"], report.totals["last_seen_at"]
    period = ("", "")
    if isinstance(first, datetime) and isinstance(last, datetime):
        period = (utc_text(first, "%Y-%m-%d"), utc_text(last, "%Y-%m-%d"))
    if privacy.show_logins:
        note = "chatter logins shown; opted-out chatters removed"
    else:
        note = "chatters are pseudonymized; opted-out chatters removed"
    site = Site(
        out_dir=staging,
        env=environment(),
        channels=names,
        built_at=datetime.now(UTC),
        last_event_at=last,
        period=period,
        privacy_note=note,
        stream_pages=latest_stream_pages(report.streams, stream_pages),
    )
    colors = charts.channel_colors(names)
    for module in PAGE_MODULES:
        module.build(site, report, colors)
    return site.pages
