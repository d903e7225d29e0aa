"""The report build: pages, privacy, escaping, least privilege, loud failures, publishing."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, timedelta
from pathlib import Path

import dagster as dg
import jinja2
import plotly.graph_objects as go
import psycopg
import pytest
from markupsafe import escape

from reports import queries
from reports.build import build_site
from reports.catalog import CatalogError
from reports.privacy import NAMED_FILE, pseudonym
from reports.publish import publish_site
from reports.queries import ReportQueryError, load_sql, reporter_role
from reports.site import channel_slug, stream_slug
from tests.reports.conftest import KEY, ReportWarehouse
from tests.reports.marts_data import HOSTILE_CHANNEL, HOSTILE_MESSAGE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reports")]


def _report_html(site: Path) -> dict[Path, str]:
    """Every published page except dbt's catalog (which holds metadata, not chat)."""
    return {p: p.read_text() for p in site.rglob("*.html") if "catalog" not in p.parts}


def test_every_page_type_is_built(built_site: Path, report_warehouse: ReportWarehouse) -> None:
    for page in (
        "index.html",
        "emotes.html",
        "community.html",
        "moderation.html",
        "comparison.html",
        "data.html",
        "catalog/index.html",
    ):
        assert (built_site / page).is_file(), page
    for channel in report_warehouse.facts["channels"]:
        assert (built_site / "channels" / f"{channel_slug(channel)}.html").is_file()
    assert len(list((built_site / "streams").glob("*.html"))) == report_warehouse.facts["streams"]
    assert (built_site / "assets" / "plotly.min.js").is_file()
    catalog = (built_site / "catalog" / "index.html").read_text()
    assert "fct_chat_messages" in catalog  # dbt docs with the marts' models
    for page, html in _report_html(built_site).items():
        assert "catalog/index.html" in html, f"{page} does not link the catalog"


def test_every_chart_is_a_valid_plotly_figure_with_its_data(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    """Charts are built as plain dicts (no Plotly validation while building): validate them here."""
    spec = re.compile(r'<script type="application/json" class="chart-spec"[^>]*>(.*?)</script>')
    drawn = 0
    for page, html in _report_html(built_site).items():
        for payload in spec.findall(html):
            figure = json.loads(payload)
            go.Figure(figure)  # raises on any attribute or value Plotly does not accept
            for trace in figure["data"]:
                if "x" in trace and "y" in trace and trace["type"] != "heatmap":
                    assert len(trace["x"]) == len(trace["y"]) > 0, (page.name, trace["name"])
            drawn += 1
    assert drawn >= 40
    overview = _report_html(built_site)[built_site / "index.html"]
    volume = json.loads(spec.findall(overview)[0])
    channels = report_warehouse.facts["channels"]
    assert sorted(t["meta"]["channel"] for t in volume["data"]) == sorted(channels)
    assert all(any(isinstance(v, float) for v in t["y"]) for t in volume["data"])


def test_no_raw_login_when_pseudonymized(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    pages = _report_html(built_site)
    for login in report_warehouse.facts["logins"]:
        offenders = [p.name for p, html in pages.items() if login in html]
        assert not offenders, f"{login} published in {offenders}"
    everything = "".join(pages.values())
    assert pseudonym("zz_chatter_003", KEY) in everything  # shown, as a pseudonym


def test_opted_out_chatter_appears_nowhere(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    olga = report_warehouse.facts["opted_out"]
    for page in built_site.rglob("*.html"):
        html = page.read_text()
        assert olga not in html, page
        assert pseudonym(olga, KEY) not in html, page


def test_no_cell_reads_nan_or_negative_zero(built_site: Path) -> None:
    """Missing text reads as a dash, and a change that rounds to zero has no sign."""
    cell = re.compile(r">\s*(?:nan|NaN|None|-0(?:\.0+)?)\s*<")
    offenders = {p.name: cell.findall(html)[:3] for p, html in _report_html(built_site).items()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_site_lists_every_pseudonym_its_pages_name(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    """`forget` trusts this list to find the days that name a chatter: none may be missing."""
    listed = set((built_site / NAMED_FILE).read_text().split())
    on_pages = set(re.findall(r"chatter-[0-9a-f]{10}", "".join(_report_html(built_site).values())))
    assert on_pages and on_pages <= listed
    assert {pseudonym(c, KEY) for c in report_warehouse.facts["channels"]} <= listed
    assert pseudonym(report_warehouse.facts["opted_out"], KEY) not in listed
    assert len(listed) < len(report_warehouse.facts["logins"])  # not simply every chatter


def test_logins_shown_only_when_enabled_and_never_opt_outs(
    report_warehouse: ReportWarehouse, tmp_path: Path
) -> None:
    settings = report_warehouse.settings(REPORT_SHOW_CHATTER_LOGINS=True)
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        result = build_site(
            conn, tmp_path / "site", settings=settings, catalog=report_warehouse.catalog
        )
    everything = "".join(_report_html(result.site_dir).values())
    assert "zz_chatter_003" in everything
    assert report_warehouse.facts["opted_out"] not in everything
    listed = set((result.site_dir / NAMED_FILE).read_text().split())
    shown = {x for x in report_warehouse.facts["logins"] if re.search(rf"\b{x}\b", everything)}
    assert shown and {pseudonym(x, KEY) for x in shown} <= listed


def test_only_each_channels_latest_streams_get_pages(
    report_warehouse: ReportWarehouse, tmp_path: Path
) -> None:
    settings = report_warehouse.settings(REPORT_STREAM_PAGES=1)
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        latest = conn.execute(
            "select distinct on (channel) channel, started_at from marts.fct_streams"
            " order by channel, started_at desc"
        ).fetchall()
        total = conn.execute("select count(*) from marts.fct_streams").fetchone()[0]  # type: ignore[index]
        result = build_site(
            conn, tmp_path / "site", settings=settings, catalog=report_warehouse.catalog
        )
    pages = {p.name for p in (result.site_dir / "streams").glob("*.html")}
    assert pages == {f"{stream_slug(channel, started)}.html" for channel, started in latest}
    assert total > len(latest)  # older streams exist and are listed without a page
    for channel, _ in latest:
        html = (result.site_dir / "channels" / f"{channel_slug(channel)}.html").read_text()
        assert html.count('href="../streams/') == 1


def test_hostile_channel_and_message_are_escaped(built_site: Path) -> None:
    pages = _report_html(built_site)
    for page, html in pages.items():
        assert "<script>alert(1)" not in html, page
        assert "<img src=x" not in html, page
    stream_pages = "".join(html for p, html in pages.items() if p.parent.name == "streams")
    assert "&lt;img src=x onerror=alert(1)&gt;" in stream_pages  # the message, as text
    assert HOSTILE_MESSAGE not in stream_pages
    assert HOSTILE_CHANNEL not in "".join(pages.values())


def test_every_query_reads_marts_only_and_others_are_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [p.stem for p in queries.QUERY_DIR.glob("*.sql")]
    assert len(names) >= 20
    for name in names:
        load_sql(name)
    (tmp_path / "sneaky.sql").write_text(
        "select * from marts.dim_channels join raw.chat_events on true"
    )
    monkeypatch.setattr(queries, "QUERY_DIR", tmp_path)
    with pytest.raises(ReportQueryError, match="marts only"):
        load_sql("sneaky")


def test_an_opt_out_hides_every_login_of_the_same_user_id(
    report_warehouse: ReportWarehouse,
) -> None:
    """A chatter who opted out under an old name and then renamed stays hidden."""
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        user_id = conn.execute(
            "select user_id from marts.dim_chatters where user_login = 'zz_chatter_003' limit 1"
        ).fetchone()[0]  # type: ignore[index]
        assert "zz_chatter_003" not in queries.load_optouts(conn)
        conn.execute(
            "insert into raw.chatter_optouts (user_login, user_ids) values ('old_name', %s)",
            ([user_id],),
        )
        hidden = queries.load_optouts(conn)
        conn.rollback()
    assert {"zz_chatter_003", "old_name", report_warehouse.facts["opted_out"]} <= hidden


def test_postgres_enforces_the_reporter_role(report_warehouse: ReportWarehouse) -> None:
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        # dbt rebuilds a mart after the migration ran: default privileges must cover it.
        conn.execute("create table marts.rebuilt_by_dbt as select 1 as x")
        conn.commit()
        with reporter_role(conn):
            assert conn.execute("select current_user").fetchone() == ("warehouse_reporter",)
            assert conn.execute("select count(*) from marts.dim_channels").fetchone()[0] > 0  # type: ignore[index]
            assert conn.execute("select x from marts.rebuilt_by_dbt").fetchone() == (1,)
        for schema_table in ("raw.chat_events", "raw.chatter_optouts", "ml.message_sentiment"):
            with reporter_role(conn), pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {schema_table} limit 1")
        assert conn.execute("select current_user").fetchone() != ("warehouse_reporter",)
        conn.execute("drop table marts.rebuilt_by_dbt")
        conn.commit()


def test_a_template_error_fails_the_build_and_keeps_the_old_site(
    report_warehouse: ReportWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports import site

    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous build")
    templates = tmp_path / "templates"
    shutil.copytree(site.TEMPLATE_DIR, templates)
    page = templates / "emotes.html"
    page.write_text(page.read_text().replace("{{ panel(burst_chart) }}", "{{ no_such_variable }}"))
    monkeypatch.setattr(site, "TEMPLATE_DIR", templates)
    with (
        psycopg.connect(report_warehouse.url.libpq()) as conn,
        pytest.raises(jinja2.UndefinedError),
    ):
        build_site(
            conn, out, settings=report_warehouse.settings(), catalog=report_warehouse.catalog
        )
    assert (out / "index.html").read_text() == "previous build"
    assert not (tmp_path / "site.building").exists()


def test_a_catalog_that_cannot_be_generated_fails_the_build(
    report_warehouse: ReportWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_PGDATABASE", raising=False)
    with psycopg.connect(report_warehouse.url.libpq()) as conn, pytest.raises(CatalogError):
        build_site(conn, tmp_path / "site", settings=report_warehouse.settings())
    assert not (tmp_path / "site").exists()


def test_publish_keeps_the_newest_days_and_points_latest(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for day in (1, 2, 3):
        (site / "index.html").write_text(f"day {day}")
        publish_site(site, tmp_path / "pub", day=date(2026, 11, day), keep_days=2)
    dated = sorted(p.name for p in (tmp_path / "pub").iterdir() if not p.name.startswith("."))
    assert dated == ["2026-11-02", "2026-11-03", "latest"]
    assert (tmp_path / "pub" / "latest" / "index.html").read_text() == "day 3"


def test_asset_publishes_and_a_failed_build_leaves_latest_untouched(
    report_warehouse: ReportWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs import reports as report_defs
    from orchestration.resources import WarehouseResource
    from reports import build
    from twitch_warehouse.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", report_warehouse.url.url)
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PSEUDONYM_KEY", KEY)
    get_settings.cache_clear()

    def copy_catalog(target: Path, *, database: str) -> None:  # dbt docs is tested once above
        assert database == report_warehouse.url.database
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(report_warehouse.catalog, target)

    monkeypatch.setattr(build, "generate_catalog", copy_catalog)
    resources = {"warehouse": WarehouseResource()}
    try:
        ok = dg.materialize([report_defs.report_site], resources=resources)
        meta = ok.asset_materializations_for_node("reports__site")[0].metadata
        assert meta["pages"].value >= 15 and meta["site_bytes"].value > 1_000_000  # type: ignore[operator]
        latest = get_settings().report_publish_dir / "latest"
        before = (latest / "index.html").read_bytes()
        target = latest.resolve()

        broken = tmp_path / "queries"
        shutil.copytree(queries.QUERY_DIR, broken)
        (broken / "streams.sql").write_text("select no_such_column from marts.fct_streams")
        monkeypatch.setattr(queries, "QUERY_DIR", broken)
        failed = dg.materialize(
            [report_defs.report_site], resources=resources, raise_on_error=False
        )
        assert not failed.success
        assert latest.resolve() == target
        assert (latest / "index.html").read_bytes() == before
    finally:
        get_settings.cache_clear()


def test_stream_pages_show_how_far_chat_moved_from_the_previous_stream(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    shifts = report_warehouse.facts["topic_shifts"]
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        streams = conn.execute(
            "select channel, started_at, row_number() over (partition by channel"
            " order by started_at) from marts.fct_streams"
        ).fetchall()
    for channel, started, number in streams:
        html = (built_site / "streams" / f"{stream_slug(channel, started)}.html").read_text()
        shown = re.search(r'data-stat="topic-shift">([^<]*)<', html)
        assert shown is not None
        if number == 1:  # a channel's first stream has nothing to compare with
            assert shown.group(1) == "–"
            continue
        shift, previous_game = shifts[channel]
        assert shown.group(1) == f"{shift:.2f}"
        changed = f"the game changed from {previous_game}" in html
        assert changed == (previous_game != "Just Chatting"), channel


def test_comparison_tags_name_each_channels_top_emotes(
    built_site: Path, report_warehouse: ReportWarehouse
) -> None:
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        signatures = conn.execute(
            "select channel, top_emotes from marts.fct_channel_signatures"
        ).fetchall()
    html = (built_site / "comparison.html").read_text()
    tags = re.findall(r'<span class="tag">([^<]*?)\s*(?:<small>([^<]*)</small>)?</span>', html)
    assert tags
    expected = [
        (e["emote"], e["provider"])
        for _, top in signatures
        for e in (json.loads(top) if isinstance(top, str) else top)
    ]
    assert sorted(tags) == sorted(expected)


def test_times_are_utc_whatever_the_sessions_time_zone(
    built_site: Path, report_warehouse: ReportWarehouse, tmp_path: Path
) -> None:
    """Stream page names, titles and the date filter's bounds are UTC on a server or session in
    another time zone."""
    url = report_warehouse.url.libpq()
    with psycopg.connect(url, options="-c timezone=America/New_York") as conn:
        result = build_site(
            conn, tmp_path / "site", settings=report_warehouse.settings(),
            catalog=report_warehouse.catalog,
        )  # fmt: skip
        streams = conn.execute("select channel, started_at from marts.fct_streams").fetchall()
        bounds = conn.execute(
            "select min(first_seen_at), max(last_seen_at) from marts.dim_channels"
        ).fetchone()
    pages = sorted(p.name for p in (result.site_dir / "streams").glob("*.html"))
    assert pages == sorted(p.name for p in (built_site / "streams").glob("*.html"))
    for channel, started in streams:
        page = result.site_dir / "streams" / f"{stream_slug(channel, started)}.html"
        utc_start = started.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        title = escape(f"#{channel} · {utc_start} UTC")
        assert f"<title>{title}" in page.read_text(), page.name
    assert bounds is not None
    first, last = (b.astimezone(UTC).strftime("%Y-%m-%d") for b in bounds)
    index = (result.site_dir / "index.html").read_text()
    assert f'data-filter="from" min="{first}" max="{last}"' in index


def test_data_page_counts_every_hour_with_chat(
    report_warehouse: ReportWarehouse, tmp_path: Path
) -> None:
    """Hours loaded are counted over all channels, not the busiest channel's."""
    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        # Two channels chat again, each in its own later hour, in this transaction only: the
        # build reads them in the same transaction and rolls them back.
        for pick, hours in (("min", 5), ("max", 7)):
            conn.execute(
                "insert into marts.fct_chat_windows (chat_window_key, channel, window_seconds,"
                " window_start_at, window_end_at, message_count, unique_chatter_count,"
                " new_chatter_count, moderation_action_count, subscription_count, raid_count,"
                " bits_total, is_burst_window)"
                " select 'late|' || channel, channel, 300, max(window_start_at) + %(later)s,"
                " max(window_end_at) + %(later)s, 1, 1, 0, 0, 0, 0, 0, false"
                f" from marts.fct_chat_windows where channel = (select {pick}(channel)"
                " from marts.fct_chat_windows) group by channel",
                {"later": timedelta(hours=hours)},
            )
        row = conn.execute(
            "select (select count(distinct date_trunc('hour', window_start_at, 'UTC'))"
            " from marts.fct_chat_windows where window_seconds = 300),"
            " (select max(hours) from (select count(distinct date_trunc('hour',"
            " window_start_at, 'UTC')) as hours from marts.fct_chat_windows"
            " where window_seconds = 300 group by channel) as per_channel)"
        ).fetchone()
        assert row is not None and row[0] > row[1]  # no channel alone covers every hour
        result = build_site(
            conn, tmp_path / "site", settings=report_warehouse.settings(),
            catalog=report_warehouse.catalog,
        )  # fmt: skip
    html = (result.site_dir / "data.html").read_text()
    shown = re.search(r'data-stat="hours">([^<]*)<', html)
    assert shown is not None and shown.group(1) == f"{row[0]:,}"


def test_top_rows_per_channel_keep_a_quiet_channel_under_a_busy_one() -> None:
    import pandas as pd

    from reports.frames import top_rows_per_channel

    frame = pd.DataFrame({"channel": ["busy"] * 5 + ["quiet"] * 2,
                          "score": [9, 8, 7, 6, 5, 2, 1]})  # fmt: skip
    rows = top_rows_per_channel(frame, "score", 3)
    assert [(r["channel"], r["score"], r["beyond"]) for r in rows] == [
        ("busy", 9, False), ("busy", 8, False), ("busy", 7, False),
        ("quiet", 2, True), ("quiet", 1, True),
    ]  # fmt: skip
