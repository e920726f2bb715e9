"""Issue 2's outputs: the real site and PDF, rendered with the built-in engine."""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT


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


# What Quarto receives is the cells' outputs, not the built-in renderer's HTML: a `text/html`
# output makes Quarto add require.js and jQuery from cdn.jsdelivr.net to the page.
MARKDOWN_LIKE = {"text/markdown", "text/plain", "image/svg+xml", "image/png"}


@pytest.fixture(scope="module")
def html_cell_outputs(settings, tables, tmp_path_factory) -> dict[str, list]:
    """Every report page's cells executed for HTML, as Quarto's kernel would run them."""
    from pipeline.render.engine import execute_page
    from pipeline.render.kernel import kernel_space
    from pipeline.render.qmd import parse_qmd, read_project

    project = read_project(PROJECT_ROOT)
    work = tmp_path_factory.mktemp("cells")
    outputs = {}
    with pytest.MonkeyPatch.context() as mp, kernel_space() as kernels:
        mp.setenv("BRIEFING_PROCESSED_DIR", str(settings.processed_dir))
        for path in project.pages:
            page = parse_qmd(path)
            cells, _ = execute_page(page, project, "html", work, kernels)
            outputs[path.name] = [out for cell in cells for out in cell]
    return outputs


def test_cell_outputs_request_nothing_from_a_cdn(html_cell_outputs, site) -> None:
    charts = 0
    for page, outputs in html_cell_outputs.items():
        for out in outputs:
            data = out.get("data", {})
            assert set(data) <= MARKDOWN_LIKE, f"{page}: a cell output is {sorted(data)}"
            text = str(data.get("text/markdown", ""))
            assert "cdn." not in text and "require" not in text, page
            assert not re.search(r"<script[^>]*\bsrc=\"(https?:)?//", text), page
            if "vegaEmbed" in text:
                charts += 1
                # The chart is a raw HTML block, which Quarto passes through untouched.
                assert re.match(r"^(`{3,})\{=html\}\n.*\n\1\n$", text, re.S), page
    drawn = sum(p.read_text().count('class="chart"') for p in (site / "report").glob("*.html"))
    assert charts == drawn > 0, "the site's charts were not all among the cell outputs"


def test_every_table_in_the_briefing_is_labelled_and_captioned(html_cell_outputs) -> None:
    """The briefing (the page that is also a PDF) captions every table; on every page, each
    caption carries a `tbl-` label, the only kind Quarto keeps in Typst (quarto-cli #11733)."""
    tables = 0
    for page, outputs in html_cell_outputs.items():
        labels = []
        for out in outputs:
            text = str(out.get("data", {}).get("text/markdown", ""))
            assert not re.search(r"^: (?!.* \{#tbl-[\w-]+\}$)", text, re.M), page
            # A table sits in a `::: {.table-frame}` div in HTML: look inside it.
            inner = re.sub(r"^::: \{[^}]*\}\n|\n:::\n?$", "", text, flags=re.M)
            blocks = re.split(r"\n\s*\n", inner)
            for block, after in zip(blocks, [*blocks[1:], ""], strict=True):
                if page == "index.qmd" and re.match(r"\|.*\n\|[-:|]+\|", block):
                    tables += 1
                    assert re.match(r": .+ \{#tbl-[\w-]+\}$", after), f"uncaptioned: {block}"
            labels += re.findall(r"\{#(tbl-[\w-]+)\}", text)
        assert len(labels) == len(set(labels)), f"{page}: repeated table label"
    assert tables >= 4


def test_html_numbers_tables_like_quarto(site) -> None:
    html = (site / "report" / "index.html").read_text()
    captions = re.findall(r'<table id="(tbl-[\w-]+)"[^>]*>\s*<caption>Table (\d+): ', html)
    assert [int(n) for _, n in captions] == list(range(1, len(captions) + 1))
    assert len(captions) >= 4


def test_pages_link_the_stylesheet_named_in_quarto_yml(site) -> None:
    html = (site / "report" / "index.html").read_text()
    assert '<link rel="stylesheet" href="site.css">' in html
    assert (site / "report" / "site.css").read_bytes() == (
        PROJECT_ROOT / "report" / "site.css"
    ).read_bytes()
    assert ".key-findings" in (site / "report" / "site.css").read_text()
    assert 'class="key-findings"' in html
