"""Issue 2's outputs: the real site and PDF, rendered with the built-in engine."""

from __future__ import annotations

import json
import re

from pypdf import PdfReader


def test_site_has_index_and_briefing_with_vega_lite(site) -> None:
    assert (site / "index.html").is_file()
    html = (site / "report" / "index.html").read_text()
    match = re.search(r'id="chart-price-paths-spec">(.*?)</script>', html, re.S)
    assert match, "price-path chart spec missing"
    spec = json.loads(match.group(1))
    assert "vega-lite" in spec["$schema"]
    assert (site / "libs" / "vega" / "vega-bundle.js").is_file()
    assert "cdn.jsdelivr" not in html


def test_pdf_has_pages_and_edition_id(site, tables) -> None:
    pdf = site / f"alibaba-briefing-{tables.edition.id}.pdf"
    assert pdf.is_file()
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert tables.edition.id in first
    assert all(tables.edition.id in p.extract_text() for p in reader.pages)  # footer on every page


def test_every_page_shows_edition_and_as_of(site, tables) -> None:
    for page in sorted((site / "report").glob("*.html")):
        text = page.read_text()
        assert tables.edition.id in text, page.name
        assert tables.edition.as_of.isoformat() in text, page.name


def test_articles_table_lists_every_article(site, tables) -> None:
    html = (site / "report" / "index.html").read_text()
    for title in tables["articles"]["title"].drop_nulls().to_list():
        words = title.split()[:3]
        assert " ".join(words) in html
