"""Quarto's `meta` shortcode and conditional content, as the built-in renderer reads them.

The pages show their edition stamp with `{{< meta edition-line >}}` inside a
`.content-visible when-format="html"` div, so both must behave as in Quarto: the value comes
from the front matter over `metadata-files`, and the div is kept in one format only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.errors import InputError
from pipeline.render.engine import RenderError, render_project
from pipeline.render.shortcodes import resolve_shortcodes

QUARTO_YML = """\
project:
  type: website
  render: [page.qmd]
metadata-files: [meta/stamp.yml]
website:
  title: Shortcodes
"""
PAGE = """\
---
title: "Shortcode page"
owner: {team: "desk seven"}
format:
  html: default
  typst:
    output-file: page.pdf
---

::: {.content-visible when-format="html"}
Web stamp: {{< meta stamp-line >}}.
:::

::: {.content-visible unless-format="html"}
Print stamp: {{< meta stamp-line >}}.
:::

::: {.content-hidden when-format="typst"}
Hidden from print.
:::

::: {.content-hidden unless-format="typst"}
Hidden from the web.
:::

Kept by {{< meta owner.team >}} on {{< meta day >}}; the syntax is {{{< meta stamp-line >}}}.
"""


def write_project(root: Path, page: str = PAGE) -> Path:
    (root / "meta").mkdir(parents=True)
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "meta" / "stamp.yml").write_text(
        'stamp-line: "Issue 42 of the weekly"\nday: 2025-11-18\n'
    )
    (root / "page.qmd").write_text(page)
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("shortcodes"))
    render_project(root, log=lambda *_: None)
    return root / "_site"


def test_meta_shortcode_shows_metadata_values_in_html(site: Path) -> None:
    html = (site / "page.html").read_text()
    assert "Web stamp: Issue 42 of the weekly." in html  # from the metadata file
    assert "Kept by desk seven on 2025-11-18" in html  # dotted key into the front matter
    assert "the syntax is {{&lt; meta stamp-line &gt;}}" in html  # the escape writes it as is


def test_conditional_divs_keep_each_block_in_its_formats_only(site: Path) -> None:
    html = (site / "page.html").read_text()
    assert "Print stamp" not in html and "Hidden from the web" not in html
    assert "Hidden from print" in html
    assert "content-visible" not in html  # a shown div is unwrapped, as in Quarto
    pdf = " ".join(p.extract_text() for p in PdfReader(site / "page.pdf").pages)
    pdf = " ".join(pdf.split())
    assert "Print stamp: Issue 42 of the weekly." in pdf
    assert "Hidden from the web" in pdf
    assert "Web stamp" not in pdf and "Hidden from print" not in pdf


def test_a_missing_key_names_the_page_and_line(tmp_path: Path) -> None:
    page = tmp_path / "p.qmd"
    page.write_text("---\ntitle: x\n---\n\nFirst.\n\nSee {{< meta nowhere >}}.\n")
    with pytest.raises(InputError, match=r"p\.qmd:7: .*'nowhere' is missing"):
        resolve_shortcodes(page.read_text(), {"title": "x"}, page)
    with pytest.raises(InputError, match=r"is a list, not text"):
        resolve_shortcodes("{{< meta tags >}}", {"tags": ["a", "b"]}, page)


def test_any_other_shortcode_stops_the_build(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "---\ntitle: x\n---\n\n{{< include other.qmd >}}\n")
    with pytest.raises(InputError, match=r"page\.qmd:5: shortcode \{\{< include >\}\} is not"):
        render_project(root, log=lambda *_: None)


def test_an_unsupported_condition_stops_the_build(tmp_path: Path) -> None:
    page = '---\ntitle: x\n---\n\n::: {.content-visible when-meta="draft"}\nDraft.\n:::\n'
    root = write_project(tmp_path / "p", page)
    with pytest.raises(RenderError, match="when-meta is not supported"):
        render_project(root, log=lambda *_: None)
