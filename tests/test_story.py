"""The briefing as a reader meets it: the story first, charts that fit, nothing internal shown.

Browser checks run the built site in Chromium at a phone width (390 px) and a desktop width
(1400 px). Text checks read the rendered HTML and the PDF. The story checks rebuild the tables
for another as-of date and expect the headline and lede to follow the data.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from browser import launch, open_page, unavailable_reason
from site_fixtures import html_pages

from pipeline.briefing import narrative
from pipeline.tables import TABLE_NAMES

WHY_NOT = unavailable_reason()
needs_browser = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")
WIDTHS = (390, 1400)
# Pages written for readers. The Data and Methodology pages are the reference pages: they name
# files, tables and columns on purpose.
READER_PAGES = ("report/index.html", "report/claims.html", "report/editions.html")

# Elements wider than the viewport, outside a frame that scrolls on its own.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth, bad = [];
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; }
    return false; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1) && !scrolls(el) && !el.closest('svg'))
      bad.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  return {vw, scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 5)};
}"""
# Every drawn element of every chart inside the chart's frame.
CHART_FIT_JS = """() => [...document.querySelectorAll('.chart')].map(c => {
  const box = c.getBoundingClientRect(); const svg = c.querySelector('svg');
  if (!svg) return [c.id, 'no svg'];
  let worst = 0;
  for (const el of svg.querySelectorAll('path, text, rect, line')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0) worst = Math.max(worst, r.right - box.right, box.left - r.left);
  }
  return [c.id, Math.round(svg.getBoundingClientRect().width - box.width), Math.round(worst)];
})"""


@pytest.fixture(scope="module", params=WIDTHS)
def layouts(request: pytest.FixtureRequest, site_dir: Path) -> list[tuple[str, Any, Any]]:
    """Every page at one width: its overflow report and its charts' fit."""
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    out = []
    with launch({"width": request.param, "height": 900}) as ctx:
        for path in html_pages(site_dir):
            page, _ = open_page(ctx, path)
            page.wait_for_timeout(500)  # panels are measured and redrawn once after drawing
            out.append(
                (
                    f"{path.relative_to(site_dir)} @{request.param}px",
                    page.evaluate(OVERFLOW_JS),
                    page.evaluate(CHART_FIT_JS),
                )
            )
            page.close()
    return out


@needs_browser
def test_no_page_is_wider_than_the_screen(layouts) -> None:
    wide = [(name, o) for name, o, _ in layouts if o["scroll"] > o["vw"] + 1 or o["bad"]]
    assert not wide, wide


@needs_browser
def test_every_chart_fits_its_frame(layouts) -> None:
    bad = [
        (name, chart)
        for name, _, charts in layouts
        for chart in charts
        if chart[1] == "no svg" or chart[1] > 1 or chart[2] > 2
    ]
    assert not bad, bad


# The claims table as a reader sees it: does its frame scroll sideways, where each verdict sits.
CLAIMS_TABLE_JS = """() => {
  const frame = [...document.querySelectorAll('.table-frame')].find(f => f.querySelector('.chip'));
  if (!frame) return null;
  const vw = document.documentElement.clientWidth;
  return {vw, scroll: frame.scrollWidth - frame.clientWidth,
    cell: getComputedStyle(frame.querySelector('td')).display,
    chips: [...frame.querySelectorAll('.chip')].map(c => {
      const r = c.getBoundingClientRect();
      return [c.textContent.trim(), Math.round(r.left), Math.round(r.right), Math.round(r.width)];
    })};
}"""


@needs_browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_verdict_is_on_screen_without_scrolling_sideways(
    site_dir: Path, tables, width: int
) -> None:
    """On a phone the claims table is stacked cards: its frame never scrolls and every verdict
    chip, with its word, lies inside the screen. On a desktop it stays a table."""
    with launch({"width": width, "height": 900}) as ctx:
        page, _ = open_page(ctx, site_dir / "report" / "claims.html")
        found = page.evaluate(CLAIMS_TABLE_JS)
        page.close()
    assert found is not None, "no claims table with verdict chips on the claims page"
    assert found["scroll"] <= 1, found["scroll"]
    assert len(found["chips"]) == tables["claims"].height
    verdicts = set(tables["claims"]["verdict"])
    off = [c for c in found["chips"] if c[0] not in verdicts or c[1] < 0 or c[2] > found["vw"]]
    assert not off and all(c[3] > 0 for c in found["chips"]), off
    assert (found["cell"] == "table-cell") == (width >= 640), found["cell"]


def _chart_spec(site: Path, chart: str) -> dict:
    text = (site / "report" / "index.html").read_text(encoding="utf-8")
    m = re.search(rf'id="chart-{chart}-spec">(.*?)</script>', text, re.S)
    assert m, f"no {chart} chart on the briefing page"
    return json.loads(m.group(1).replace("<\\/", "</"))


def _domains(spec: Any) -> list[list[str]]:
    if isinstance(spec, dict):
        found = [spec["domain"]] if isinstance(spec.get("domain"), list) else []
        return found + [d for v in spec.values() for d in _domains(v)]
    if isinstance(spec, list):
        return [d for v in spec for d in _domains(v)]
    return []


def test_last_article_is_inside_the_price_chart(site_dir: Path, tables) -> None:
    last = tables["articles"]["published_date"].max()
    domains = [d for d in _domains(_chart_spec(site_dir, "price-paths")) if "-" in str(d[0])]
    assert domains, "the price chart has no date domain"
    for lo, hi in domains:
        assert dt.date.fromisoformat(lo[:10]) <= last <= dt.date.fromisoformat(hi[:10])
    assert all(
        "width" not in p or p["width"] == "container"
        for p in _chart_spec(site_dir, "price-paths")["vconcat"]
    )


# ---- nothing internal reaches readers -----------------------------------------------------


def _internal_patterns(tables) -> list[tuple[str, re.Pattern]]:
    files = tables["prices"]["source_file"].unique().to_list()
    folders = sorted({f.split("/")[0] for f in files})
    columns = sorted(
        {
            c
            for name in TABLE_NAMES
            if name in tables.frames
            for c in tables[name].columns
            if "_" in c
        }
    )
    return [
        ("file name", re.compile(r"\b[\w.-]+\.(txt|parquet)\b")),
        ("null value", re.compile(r"(?<![\w-])(null|None|NaN)(?![\w-])")),
        ("module path", re.compile(r"\bpipeline(/|\.)[a-z_]+")),
        ("column identifier", re.compile(r"\b(" + "|".join(map(re.escape, columns)) + r")\b")),
        ("repository folder", re.compile("|".join(map(re.escape, folders)))),
        ("SI suffix", re.compile(r"\d(\.\d+)?\s?[GT]\b")),
        ("make target", re.compile(r"\bmake (publish|report|tables)\b")),
    ]


def _visible_text(page_html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page_html, flags=re.S)
    body = re.sub(r"<a [^>]*download[^>]*>.*?</a>", " ", body, flags=re.S)  # link targets
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _tooltip_values(spec: Any) -> list[str]:
    """Every tooltip title of a chart (what a reader reads on hover)."""
    if isinstance(spec, dict):
        own = [spec["title"]] if "field" in spec and isinstance(spec.get("title"), str) else []
        return own + [t for v in spec.values() for t in _tooltip_values(v)]
    if isinstance(spec, list):
        return [t for v in spec for t in _tooltip_values(v)]
    return []


def test_reader_pages_show_nothing_internal(site_dir: Path, tables) -> None:
    patterns = _internal_patterns(tables)
    for page in READER_PAGES:
        text = _visible_text((site_dir / page).read_text(encoding="utf-8"))
        for what, pattern in patterns:
            m = pattern.search(text)
            assert not m, (
                f"{page}: {what} {m.group(0)!r} in …{text[max(0, m.start() - 60) : m.end() + 30]}…"
            )


def test_chart_tooltips_name_no_column(site_dir: Path, tables) -> None:
    for chart in ("price-paths", "close-up", "turnover", "long-run"):
        titles = _tooltip_values(_chart_spec(site_dir, chart))
        assert titles and not [t for t in titles if "_" in t], (chart, titles)


def test_pdf_shows_nothing_internal(pdf_path: Path, tables) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The methodology appendix names the market data for readers; a data page does not exist.
    for what, pattern in _internal_patterns(tables):
        m = pattern.search(text)
        assert not m, (
            f"PDF: {what} {m.group(0)!r} in …{text[max(0, m.start() - 60) : m.end() + 30]}…"
        )


def test_internals_check_can_fail(tables) -> None:
    patterns = dict(_internal_patterns(tables))
    assert patterns["file name"].search("untitled: 001_786733339eb12347.txt")
    assert patterns["column identifier"].search("CAR car_m1_p1")
    assert patterns["SI suffix"].search("808G")
    assert not patterns["null value"].search("not available")


# ---- the PDF reads cleanly ------------------------------------------------------------------


def _words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words, page = [], 0
    for line in out.splitlines():
        if line.strip().startswith("<page "):
            page += 1
        m = re.search(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>',
            line,
        )
        if m:
            words.append((page, *map(float, m.groups()[:4]), html.unescape(m.group(5))))
    return words


def _overlaps(words) -> list[tuple[str, str, int]]:
    bad = []
    for i, a in enumerate(words):
        for b in words[i + 1 : i + 60]:
            if a[0] != b[0]:
                continue
            dx = min(a[3], b[3]) - max(a[1], b[1])
            dy = min(a[4], b[4]) - max(a[2], b[2])
            if dx > 1.0 and dy > 1.0:
                bad.append((a[5], b[5], a[0]))
    return bad


def test_claims_table_pages_have_no_overprinted_text(pdf_path: Path, tables) -> None:
    words = _words(pdf_path)
    quote = tables["claims"]["quote"][0].split()[0]
    pages = {w[0] for w in words if w[5] == quote} | {w[0] for w in words if w[5] == "verdict"}
    assert pages, "no page of the PDF holds the claims table"
    on_pages = [w for w in words if w[0] in pages]
    assert not _overlaps(on_pages), _overlaps(on_pages)[:5]


def test_overlap_check_can_fail() -> None:
    words = [(1, 10.0, 10.0, 60.0, 20.0, "2025-11-14"), (1, 40.0, 12.0, 90.0, 22.0, "−3.78")]
    assert _overlaps(words)


def test_cover_holds_the_headline(pdf_path: Path, tables) -> None:
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf_path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    head = narrative.plain(
        narrative.headline(dict(tables.frames), tables.edition.as_of.isoformat())
    )
    assert " ".join(head.split()) in " ".join(first.split())
    # The edition line once on the cover (the page footer starts on page 2).
    assert len(re.findall(r"Edition \S+ · (data )?as of", first)) == 1
    for r in tables["year_to_date"].iter_rows(named=True):
        assert f"{r['change'] * 100:+.1f}%".replace("-", "−") in first


def test_headline_and_lede_lead_the_web_page(site_dir: Path, tables) -> None:
    page = (site_dir / "report" / "index.html").read_text(encoding="utf-8")
    text = " ".join(_visible_text(page).replace("’", "'").split())
    head = narrative.plain(
        narrative.headline(dict(tables.frames), tables.edition.as_of.isoformat())
    )
    assert " ".join(head.split()) in text
    # Before any section of the page: the headline and lede come first.
    # (the contents sidebar's own title is no section of the page)
    content = re.sub(r'<nav id="TOC".*?</nav>', "", page, flags=re.S)
    first_section = content.find("<h2")
    assert 0 <= content.find('class="headline"') < content.find('class="lede"') < first_section


# ---- the story follows the data ---------------------------------------------------------------


def test_the_lede_is_written_from_the_tables(tables) -> None:
    frames, as_of = dict(tables.frames), tables.edition.as_of.isoformat()
    lede = narrative.plain(narrative.lede(frames, as_of))
    sig = frames["article_reactions"].filter(pl.col("significant"))
    if sig.height:
        top = sig.sort(pl.col("t_ar").abs(), descending=True).row(0, named=True)
        assert f"t = {top['t_ar']:+.1f}".replace("-", "−") in lede
        assert top["label"] in lede
    for r in frames["year_to_date"].iter_rows(named=True):
        assert f"{r['change'] * 100:+.1f}%".replace("-", "−") in lede


def test_the_lede_follows_another_as_of_date(make_settings, tmp_path_factory, tables) -> None:
    """An edition cut off before the November articles tells a different story."""
    from pipeline.tables import build_tables

    first = tables["articles"]["published_date"].min()
    settings = make_settings(tmp_path_factory.mktemp("early"), as_of=first + dt.timedelta(days=7))
    early = build_tables(settings)
    as_of = early.as_of.isoformat()
    now = narrative.lede(dict(tables.frames), tables.edition.as_of.isoformat())
    then = narrative.lede(dict(early.frames), as_of)
    assert then != now
    assert early["articles"].height < tables["articles"].height
    assert "November" not in narrative.headline(dict(early.frames), as_of)
    for r in early["year_to_date"].iter_rows(named=True):
        assert f"{r['change'] * 100:+.1f}%".replace("-", "−") in narrative.plain(then)


def test_events_are_merged_and_named(tables) -> None:
    r = tables["article_reactions"]
    assert r.select("instrument", "event_date").is_duplicated().sum() == 0
    assert r["articles"].str.contains(r"\d{1,2}\u00a0?\s?[A-Z][a-z]{2}").all()
    events = tables["events"].select("instrument", "event_date").unique()
    assert events.height == r.height
