"""The published site in headless Chromium: every page, charts, nav, filters, theme, offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_FLAGS, chromium_path
from tests.reports.marts_data import HOSTILE_CHANNEL, HOSTILE_MESSAGE

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("reports")]
PAGE_TYPES = {
    "index.html": "overview",
    "channels/alpha.html": "channel",
    "streams/alpha-20261102-1800.html": "stream",
    "emotes.html": "emotes",
    "community.html": "community",
    "moderation.html": "moderation",
    "comparison.html": "comparison",
    "data.html": "data",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("no chromium binary (CI installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class Watch:
    """Console errors, page errors, dialogs (alert = injected script ran) and outside requests."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("file:", "data:", "blob:"))
                else self.outside.append(r.url)
            ),
        )
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.watch = Watch(pg)
    yield pg
    context.close()
    assert pg.watch.dialogs == [], "a script from the data ran"
    assert pg.watch.outside == [], "a request left file://"


def _charts_drawn(pg) -> int:
    pg.wait_for_function(
        "[...document.querySelectorAll('.chart')].every(c => c.querySelector('.main-svg'))",
        timeout=15_000,
    )
    return pg.locator(".chart").count()


def test_every_page_loads_renders_charts_and_stays_offline(
    built_site: Path, page, tmp_path: Path
) -> None:
    pages = sorted(p for p in built_site.rglob("*.html") if "catalog" not in p.parts)
    assert len(pages) >= 15
    shots = {built_site / rel: kind for rel, kind in PAGE_TYPES.items()}
    for html in pages:
        page.goto(html.as_uri())
        assert _charts_drawn(page) >= 1, f"{html.name} has no chart"
        assert page.locator(".js-plotly-plot .main-svg").count() >= 1
        if html in shots:
            page.screenshot(path=str(tmp_path / f"{shots[html]}-1280.png"), full_page=True)
    assert page.watch.errors == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    for rel in ("index.html", "streams/alpha-20261102-1800.html"):
        page.goto((built_site / rel).as_uri())
        _charts_drawn(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (
            f"{rel} scrolls sideways"
        )
        page.screenshot(path=str(tmp_path / f"{PAGE_TYPES[rel]}-390.png"), full_page=True)
    assert page.watch.errors == []


def test_nav_links_reach_every_page_and_the_catalog(built_site: Path, page) -> None:
    page.goto((built_site / "index.html").as_uri())
    for label, title in [
        ("Emotes", "Emotes"),
        ("Community", "Community"),
        ("Moderation", "Moderation and toxicity"),
        ("Comparison", "Channel comparison"),
        ("Data", "About the data"),
        ("Overview", "Overview"),
    ]:
        page.click(f".mainnav >> text={label}")
        assert page.locator("h1").inner_text() == title
    page.click(".channelbar >> text=#alpha")
    assert page.locator("h1").inner_text() == "#alpha"
    page.locator("table a[href*='streams/']").first.click()
    assert page.url.endswith(".html") and "/streams/" in page.url
    _charts_drawn(page)
    page.click(".crumbs a")
    assert page.locator("h1").inner_text() == "#alpha"
    page.click(".mainnav >> text=Catalog")
    page.wait_for_load_state("load")
    assert "catalog/index.html" in page.url
    assert "dbt" in page.title().lower() or "dbt" in page.content().lower()


def test_dark_mode_toggle_changes_page_and_chart_theme(built_site: Path, page) -> None:
    page.goto((built_site / "index.html").as_uri())
    _charts_drawn(page)
    theme = page.evaluate("document.documentElement.dataset.theme")
    font = page.evaluate("document.getElementById('volume').layout.font.color")
    page.click("#theme-toggle")
    page.wait_for_function(f"document.getElementById('volume').layout.font.color !== '{font}'")
    assert page.evaluate("document.documentElement.dataset.theme") != theme
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.click("#theme-toggle")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background


def test_channel_filter_and_window_toggle_change_visible_traces(built_site: Path, page) -> None:
    visible = "id => document.getElementById(id).data.filter(t => t.visible !== false).length"
    page.goto((built_site / "index.html").as_uri())
    _charts_drawn(page)
    assert page.evaluate(f"({visible})('volume')") == 3
    page.select_option("select[data-filter=channel]", "alpha")
    assert page.evaluate(f"({visible})('volume')") == 1
    names = page.evaluate(
        "document.getElementById('volume').data.filter(t => t.visible !== false).map(t => t.name)"
    )
    assert names == ["#alpha"]
    page.fill("input[data-filter=from]", "2026-11-03")
    page.dispatch_event("input[data-filter=from]", "change")
    start = page.evaluate("document.getElementById('volume').layout.xaxis.range[0]")
    assert str(start).startswith("2026-11-03")

    page.goto((built_site / "streams" / "alpha-20261102-1800.html").as_uri())
    _charts_drawn(page)
    windows = (
        "[...new Set(document.getElementById('timeline').data"
        ".filter(t => t.visible !== false && t.meta && t.meta.window).map(t => t.meta.window))]"
    )
    assert page.evaluate(windows) == [60]
    page.check("input[data-filter=window][value='30']")
    assert page.evaluate(windows) == [30]


def test_hostile_channel_and_message_render_as_text(built_site: Path, page) -> None:
    page.goto((built_site / "index.html").as_uri())
    page.locator(".channelbar a.chip").first.click()
    assert page.locator("h1").inner_text() == f"#{HOSTILE_CHANNEL}"
    _charts_drawn(page)
    assert "<script>alert(1)</script>" in (page.locator("#activity .gtitle").text_content() or "")
    page.locator("table a[href*='streams/']").first.click()
    _charts_drawn(page)
    bodies = page.locator(".messages .body").all_inner_texts()
    assert HOSTILE_MESSAGE in bodies
    assert page.locator(".messages img").count() == 0


def test_table_rows_follow_the_channel_and_date_filters(
    built_site: Path, report_warehouse, page
) -> None:
    """Every channel's latest actions are listed (not only the busiest channel's), and the date
    inputs filter table rows as they do chart ranges."""
    import psycopg

    with psycopg.connect(report_warehouse.url.libpq()) as conn:
        per_channel = dict(conn.execute(
            "select channel, count(*) from marts.fct_moderation_events group by channel"
        ).fetchall())  # fmt: skip
        last = conn.execute("select max(moderated_at) from marts.fct_moderation_events").fetchone()
        first_day = conn.execute(
            "with days as (select (moderated_at at time zone 'UTC')::date as day"
            " from marts.fct_moderation_events)"
            " select min(day), count(*) filter (where day = (select min(day) from days))"
            " from days"
        ).fetchone()
    assert last is not None and first_day is not None and len(per_channel) >= 2
    rows = "[...document.querySelectorAll('tr[data-channel]')].filter(r => !r.hidden)"
    page.goto((built_site / "moderation.html").as_uri())
    _charts_drawn(page)
    assert page.evaluate(f"{rows}.length") == min(40, sum(per_channel.values()))
    for channel, count in per_channel.items():
        page.select_option("select[data-filter=channel]", channel)
        shown = page.evaluate(f"{rows}.map(r => r.dataset.channel)")
        assert shown == [channel] * min(40, count), channel
    page.select_option("select[data-filter=channel]", "")
    # Up to the first day only: its actions fill the table though they are not the latest 40.
    page.fill("input[data-filter=to]", first_day[0].isoformat())
    page.dispatch_event("input[data-filter=to]", "change")
    dates = page.evaluate(f"{rows}.map(r => r.dataset.date)")
    assert dates == [first_day[0].isoformat()] * min(40, first_day[1])
    page.fill("input[data-filter=to]", "")
    page.dispatch_event("input[data-filter=to]", "change")
    after = (last[0] + timedelta(days=1)).strftime("%Y-%m-%d")
    page.fill("input[data-filter=from]", after)
    page.dispatch_event("input[data-filter=from]", "change")
    assert page.evaluate(f"{rows}.length") == 0
