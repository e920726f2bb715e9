"""The built-in renderer on a small project the test writes: parsing, cell options, both formats."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest
from processes import alive, command_line, descendants
from pypdf import PdfReader

from pipeline.errors import InputError
from pipeline.render.engine import RenderError, render_project
from pipeline.render.qmd import parse_qmd, read_project

QUARTO_YML = """\
project:
  type: website
  output-dir: _site
  execute-dir: project
  render: [report/index.qmd, report/other.qmd]
metadata-files: [meta/edition.yml]
website:
  title: Test site
  navbar:
    left:
      - href: report/index.qmd
        text: Home
      - href: report/other.qmd
        text: Other
execute:
  echo: false
"""

INDEX = """\
---
title: "Test page"
format:
  html: default
  typst:
    output-file: test.pdf
    template-partials:
      - _typst/typst-template.typ
      - _typst/typst-show.typ
---

## Section

```{python}
#| label: setup
import altair as alt
import polars as pl
from pipeline.briefing.display import Chart, table, output_format
df = pl.DataFrame({"x": [1, 2, 3], "y": [30, 10, 20]})
print("format:", output_format())
```

```{python}
#| label: fig-line
#| fig-cap: "A line"
#| fig-alt: "A line from 1 to 3"
Chart(alt.Chart(alt.Data(values=df.to_dicts())).mark_line().encode(x="x:Q", y="y:Q"), "line",
      data=df, data_dir=__import__("pathlib").Path("meta"))
```

```{python}
#| echo: true
shown = 1 + 1
```

```{python}
#| output: false
print("hidden output")
```

```{python}
table(pl.DataFrame({"title": ["<script>alert(1)</script>", "#set page(width: 1cm)"]}))
```

```{python}
table(df, caption="Ranked values")
```

```{python}
table(df, caption="The same values, labelled by hand", label="by-hand")
```
"""


# Quarto-style template partials: the page's metadata reaches the layout function.
TYPST_TEMPLATE = """\
#let stamped(edition: none, doc) = {
  set page(footer: [Edition #edition])
  doc
}
"""
TYPST_SHOW = """\
#show: doc => stamped(
$if(edition)$
  edition: [$edition$],
$endif$
  doc,
)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "report").mkdir()
    (root / "meta").mkdir()
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "meta" / "edition.yml").write_text(
        'edition: "2025-11-18-deadbeef"\nas-of: "2025-11-18"\n'
    )
    (root / "report" / "index.qmd").write_text(INDEX)
    (root / "report" / "other.qmd").write_text("---\ntitle: Other\n---\n\nPlain text.\n")
    (root / "report" / "_typst").mkdir()
    (root / "report" / "_typst" / "typst-template.typ").write_text(TYPST_TEMPLATE)
    (root / "report" / "_typst" / "typst-show.typ").write_text(TYPST_SHOW)
    return root


@pytest.fixture(scope="module")
def rendered(project: Path) -> Path:
    render_project(project, log=lambda *_: None)
    return project / "_site"


def test_parse_qmd_reads_cells_and_options(project: Path) -> None:
    page = parse_qmd(project / "report" / "index.qmd")
    assert page.front_matter["title"] == "Test page"
    labels = [c.label for c in page.cells]
    assert labels == ["setup", "fig-line", None, None, None, None, None]
    assert page.cells[1].options["fig-cap"] == "A line"
    assert page.cells[2].options == {"echo": True}
    assert not any(line.startswith("#|") for c in page.cells for line in c.code.splitlines())


def test_project_navigation_comes_from_quarto_yml(project: Path) -> None:
    proj = read_project(project)
    assert [n.text for n in proj.navigation] == ["Home", "Other"]
    assert proj.execute_dir_is_project


def test_html_holds_vega_lite_spec_and_cell_options(rendered: Path) -> None:
    html = (rendered / "report" / "index.html").read_text()
    spec_start = html.index('id="chart-line-spec">') + len('id="chart-line-spec">')
    spec = json.loads(html[spec_start : html.index("</script>", spec_start)])
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert [v["y"] for v in spec["data"]["values"]] == [30, 10, 20]
    assert "format: html" in html  # the cell saw the format through QUARTO_EXECUTE_INFO
    assert "sourceCode python" in html and "shown" in html  # echo: true shows the code
    assert "import altair" not in html  # echo: false (project default) hides it
    assert "hidden output" not in html  # output: false
    assert "Figure 1: A line" in html
    assert 'aria-label="A line from 1 to 3"' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="other.html"' in html  # navigation from _quarto.yml
    assert "2025-11-18-deadbeef" in html  # metadata-files reach the template


def test_html_numbers_labelled_tables_and_links_the_pdf_like_quarto(rendered: Path) -> None:
    html = (rendered / "report" / "index.html").read_text()
    assert '<table id="tbl-ranked-values">\n<caption>Table 1: Ranked values</caption>' in html
    assert '<table id="tbl-by-hand">\n<caption>Table 2: The same values' in html
    # The PDF link sits where Quarto puts it: "Other Formats", labelled with the format.
    assert '<h2>Other Formats</h2><ul><li><a href="test.pdf">Typst</a></li></ul>' in html


def test_pdf_has_pages_vector_chart_and_edition(rendered: Path) -> None:
    reader = PdfReader(rendered / "report" / "test.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 1
    # The footer comes from the page's own template partials, fed by metadata-files.
    assert "Edition 2025-11-18-deadbeef" in text
    assert "format: typst" in text
    assert "<script>alert(1)</script>" in text  # shown literally, not interpreted
    assert re.search(r"Figure\s1:\s+A line", text)  # numbered, captioned figure
    # Labelled table captions survive in Typst, numbered by Typst itself.
    assert re.search(r"Table\s1:\s+Ranked values", text)
    assert re.search(r"Table\s2:\s+The same values", text)
    # Pinned to the as-of date, not the clock, so rebuilds give the same bytes.
    assert reader.metadata["/CreationDate"].startswith("D:20251118")


def test_failing_cell_names_page_and_line(tmp_path: Path, project: Path) -> None:
    root = tmp_path / "broken"
    (root / "report").mkdir(parents=True)
    (root / "_quarto.yml").write_text("project:\n  type: website\n  render: [report/index.qmd]\n")
    (root / "report" / "index.qmd").write_text(
        "---\ntitle: x\n---\n\ntext\n\n```{python}\n1 / 0\n```\n"
    )
    with pytest.raises(
        RenderError,
        match=r"^report/index.qmd \(builtin engine, html\): cell at line 7 raised: "
        r"ZeroDivisionError: division by zero$",
    ):
        render_project(root, log=lambda *_: None)


def test_bad_front_matter_is_an_input_error_with_line(tmp_path: Path) -> None:
    page = tmp_path / "bad.qmd"
    page.write_text(
        textwrap.dedent("""\
        ---
        title: ok
        format: [unclosed
        ---
        """)
    )
    with pytest.raises(InputError, match="bad.qmd:"):
        parse_qmd(page)


def test_missing_template_partial_names_the_page(tmp_path: Path) -> None:
    root = tmp_path / "nopartial"
    (root / "report").mkdir(parents=True)
    (root / "_quarto.yml").write_text("project:\n  type: website\n  render: [report/index.qmd]\n")
    (root / "report" / "index.qmd").write_text(
        "---\ntitle: T\nformat:\n  typst:\n    template-partials: [_typst/typst-show.typ]\n---\n\nText.\n"
    )
    with pytest.raises(InputError) as err:
        render_project(root, log=lambda *_: None)
    assert "typst-show.typ" in str(err.value)
    assert err.value.path is not None and err.value.path.name == "index.qmd"


def test_no_kernel_outlives_its_page(rendered: Path) -> None:
    running = [command_line(pid) for pid in descendants(os.getpid()) if alive(pid)]
    kernels = [cmd for cmd in running if "ipykernel" in cmd]
    assert not kernels, kernels


def test_table_labels_come_from_the_caption_or_label(monkeypatch) -> None:
    import pipeline.briefing.display as display

    monkeypatch.setattr(display, "_USED_LABELS", set())
    df = __import__("polars").DataFrame({"a": [1]})
    assert ": Flows, as reported \\(HK\\$\\) {#tbl-flows-as-reported-hk}\n" in str(
        display.table(df, "Flows, as reported (HK$)")
    )
    assert "{#tbl-flows-as-reported-hk-2}" in str(display.table(df, "Flows as reported: HK"))
    assert "{#tbl-mine}" in str(display.table(df, "x", label="mine"))
    assert "{#tbl-table}" in str(display.table(df, "资金流向"))  # no ASCII word to slug
    assert "{#" not in str(display.table(df))  # no caption, nothing to number
    with pytest.raises(ValueError, match="needs a caption"):
        display.table(df, label="orphan")


def test_format_links_follow_quartos_rules() -> None:
    from pipeline.render.engine import format_links

    pdf = {"text": "Typst", "href": "b.pdf"}
    assert format_links({}, "b.pdf") == [pdf]
    assert format_links({"format-links": False}, "b.pdf") == []
    assert format_links({}, None) == []
    custom = {"text": "PDF", "href": "b.pdf"}
    assert format_links({"format-links": [custom]}, "b.pdf") == [custom, pdf]
    assert format_links({"format-links": [custom, "html"]}, "b.pdf") == [custom]


def test_figure_captions_are_markdown_with_curly_quotes(tmp_path: Path) -> None:
    root = tmp_path / "quotes"
    (root / "report").mkdir(parents=True)
    (root / "_quarto.yml").write_text(
        "project:\n  type: website\n  render: [report/index.qmd]\nformat:\n  html:\n    toc: true\n"
    )
    (root / "report" / "index.qmd").write_text(
        "---\ntitle: Q\n---\n\n## One\n\n```{python}\n#| label: fig-q\n"
        '#| fig-cap: "Alibaba\'s *own* chart"\nimport altair as alt\n'
        "from pipeline.briefing.display import Chart\n"
        "Chart(alt.Chart(alt.Data(values=[{'x': 1}])).mark_point().encode(x='x:Q'), 'q')\n```\n"
    )
    render_project(root, log=lambda *_: None)
    html = (root / "_site" / "report" / "index.html").read_text()
    assert "Figure 1: Alibaba\u2019s <em>own</em> chart" in html
    assert '<h2 id="toc-title">On this page</h2>' in html  # Quarto's contents title


def test_wide_tables_carry_card_labels_for_phones(monkeypatch) -> None:
    """A table of four or more columns gets a `.cards` frame and one label rule per column,
    with quotes and "<" escaped so a column name cannot end the style element."""
    import pipeline.briefing.display as display

    monkeypatch.setattr(display, "_USED_LABELS", set())
    monkeypatch.setattr(display, "_CARD_FRAMES", [])
    wide = __import__("polars").DataFrame(
        {"quote": ["a"], 'b "x"': [1], "c</style>": [2], "d": [3]}
    )
    text = str(display.table(wide, "Wide table"))
    assert "\n::: {#cards-tbl-wide-table .table-frame .cards}\n| quote |" in text
    rules = re.findall(
        r"#cards-tbl-wide-table td:nth-child\((\d)\)::before\{content:(\"[^\"]*\")\}", text
    )
    assert rules == [
        ("1", '"quote"'),
        ("2", '"b \\22 x\\22 "'),
        ("3", '"c\\3c /style>"'),
        ("4", '"d"'),
    ]
    assert text.count("</style>") == 1
    narrow = str(display.table(wide.select("quote", "d"), "Narrow table"))
    assert narrow.startswith("::: {.table-frame}\n") and "<style>" not in narrow
