"""The built site in a real browser: Debian's Chromium, headless, every page from file://.

A reader opens the site from a folder or a static host with no network: charts must draw, the
console must stay clean, nothing may be fetched from elsewhere, tooltips must show and each
chart's download link must give the data the chart plots.

Point it at a built site with BRIEFING_TEST_SITE=_site; otherwise a demo site is rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from browser import (
    PageLog,
    chart_marks,
    chart_spec,
    compare_csv_to_spec,
    download_link,
    download_text,
    hover_for_tooltip,
    launch,
    open_page,
    parse_csv,
    png_size,
    refresh_target,
    unavailable_reason,
)
from site_fixtures import BRIEFING_PAGE, artifacts_dir, html_pages

WHY_NOT = unavailable_reason()
needs_browser = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


@pytest.fixture(scope="module")
def context() -> Any:
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    with launch() as ctx:
        yield ctx


@pytest.fixture(scope="module")
def visits(context: Any, site_dir: Path) -> list[tuple[str, PageLog, dict[str, int]]]:
    """Every page opened once: what it logged and the marks each chart drew."""
    out = []
    for path in html_pages(site_dir):
        page, log = open_page(context, path)
        marks = {} if refresh_target(path) else chart_marks(page)  # counted at the target
        page.close()
        out.append((path.relative_to(site_dir).as_posix(), log, marks))
    return out


@needs_browser
def test_every_page_opens(visits: list, site_dir: Path) -> None:
    names = [name for name, _, _ in visits]
    assert BRIEFING_PAGE.as_posix() in names
    assert len(names) >= 2


@needs_browser
def test_no_console_errors_or_exceptions(visits: list) -> None:
    bad = {
        name: log.console_errors + log.page_errors
        for name, log, _ in visits
        if log.console_errors or log.page_errors
    }
    assert not bad, f"console errors: {bad}"


@needs_browser
def test_no_request_leaves_the_site(visits: list, site_dir: Path) -> None:
    blocked = {name: log.blocked for name, log, _ in visits if log.blocked}
    assert not blocked, f"requests off the site: {blocked}"
    # Every file the pages loaded lies inside the site folder.
    root = site_dir.resolve().as_uri() + "/"
    outside = {
        name: [u for u in log.requests if u.startswith("file:") and not u.startswith(root)]
        for name, log, _ in visits
    }
    assert not any(outside.values()), f"files outside the site: {outside}"


@needs_browser
def test_every_chart_draws_svg_marks(visits: list) -> None:
    charts = {f"{name} {chart}": n for name, _, marks in visits for chart, n in marks.items()}
    assert charts, "no page of the site has a .chart"
    empty = [chart for chart, n in charts.items() if n == 0]
    assert not empty, f"charts without a drawn mark: {empty}"


@needs_browser
def test_tooltip_shows_on_hover_over_the_briefing_chart(context: Any, site_dir: Path) -> None:
    page, _ = open_page(context, site_dir / BRIEFING_PAGE)
    try:
        first = page.evaluate("() => document.querySelector('.chart')?.id")
        assert first, "the briefing page has no chart"
        text = hover_for_tooltip(page, f'[id="{first}"]')
        assert text and text.strip(), f"no tooltip over any mark of #{first}"
    finally:
        page.close()


@needs_browser
def test_download_links_give_the_data_behind_each_chart(context: Any, site_dir: Path) -> None:
    checked, problems = 0, []
    root = site_dir.resolve()
    for path in html_pages(site_dir):
        if refresh_target(path):
            continue
        page, _ = open_page(context, path, wait_charts_ms=1)
        try:
            ids = page.evaluate("() => [...document.querySelectorAll('.chart')].map(c => c.id)")
            for chart_id in ids:
                where = f"{path.relative_to(site_dir)} #{chart_id}"
                link = download_link(page, chart_id)
                if link.count() == 0:
                    problems.append(f"{where}: no download link")
                    continue
                url, text = download_text(page, link)
                target = Path(url2pathname(urlparse(url).path))
                if not target.resolve().is_relative_to(root):
                    problems.append(f"{where}: download {url} is outside the site")
                found = compare_csv_to_spec(parse_csv(text), chart_spec(page, chart_id))
                problems += [f"{where}: {p}" for p in found]
                checked += 1
        finally:
            page.close()
    assert checked, "no chart with a download link was found"
    assert not problems, "\n".join(problems)


@needs_browser
def test_full_page_screenshot_of_the_briefing(context: Any, site_dir: Path) -> None:
    page, _ = open_page(context, site_dir / BRIEFING_PAGE)
    try:
        target = artifacts_dir() / "briefing-full-page.png"
        page.screenshot(path=str(target), full_page=True)
        height = page.evaluate("() => document.documentElement.scrollHeight")
    finally:
        page.close()
    width, shot_height = png_size(target)
    assert width > 0 and shot_height >= height > 0


@needs_browser
def test_root_index_leads_to_the_briefing(context: Any, site_dir: Path) -> None:
    page = context.new_page()
    try:
        page.goto((site_dir / "index.html").resolve().as_uri())
        page.wait_for_url("**/" + BRIEFING_PAGE.as_posix(), timeout=5000)
    finally:
        page.close()


@needs_browser
def test_briefing_fits_a_phone_screen(context: Any, site_dir: Path) -> None:
    page = context.new_page()
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto((site_dir / BRIEFING_PAGE).resolve().as_uri())
        page.wait_for_load_state("load")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    finally:
        page.close()
    assert overflow <= 1, f"the page is {overflow}px wider than a 390px phone screen"


# ---- the checks themselves can fail -------------------------------------------------------


@needs_browser
def test_watch_catches_errors_and_requests_off_the_site(context: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body>"
        '<img src="https://cdn.example.com/x.png">'
        "<script>console.error('boom'); throw new Error('bang');</script>"
        "</body></html>",
        encoding="utf-8",
    )
    page, log = open_page(context, bad, wait_charts_ms=1)
    page.close()
    assert log.blocked == ["https://cdn.example.com/x.png"]
    assert any("boom" in e for e in log.console_errors)
    assert any("bang" in e for e in log.page_errors)


@needs_browser
def test_an_empty_chart_counts_as_not_drawn(context: Any, tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text(
        '<div class="chart" id="chart-empty"><svg><g class="mark-line role-mark"></g></svg></div>',
        encoding="utf-8",
    )
    page, _ = open_page(context, tmp_path / "empty.html", wait_charts_ms=100)
    marks = chart_marks(page)
    page.close()
    assert marks == {"chart-empty": 0}


def test_csv_comparison_finds_stale_and_foreign_rows() -> None:
    spec = {
        "layer": [
            {"data": {"values": [{"d": "2025-01-02", "v": 1.5}, {"d": "2025-01-03", "v": 2}]}},
            {"data": {"values": [{"d": "2025-01-02", "title": "x"}]}},  # tooltip layer
        ]
    }
    same = [{"d": "2025-01-02", "v": "1.5"}, {"d": "2025-01-03", "v": "2.0"}]
    assert compare_csv_to_spec(same, spec) == []
    stale = [{"d": "2025-01-02", "v": "1.5"}, {"d": "2025-01-03", "v": "2.1"}]
    assert compare_csv_to_spec(stale, spec)
    extra = [*same, {"d": "2025-01-04", "v": "3"}]
    assert compare_csv_to_spec(extra, spec)
    assert compare_csv_to_spec([], spec)
