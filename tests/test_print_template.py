"""The briefing's print template partials (report/_typst/) under the built-in renderer:
the footer carries the edition, CJK text is set in an embedded CJK font, and the
key-findings box is drawn from the same cell output the site uses."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import typst
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT
from pipeline.render.engine import render_project

PAGE = """\
---
title: "Briefing 阿里巴巴"
kicker: "TEST"
format:
  typst:
    output-file: brief.pdf
    toc: true
    template-partials:
      - _typst/typst-template.typ
      - _typst/typst-show.typ
---

```{python}
from pipeline.briefing.sections import Markdown, is_html
print("typst" if not is_html() else "html")
```

## 阿里巴巴集团

阿里巴巴股价在香港上涨。 Alibaba's shares rose in Hong Kong.

```{python}
#| label: fig-cjk
#| fig-cap: "A chart with CJK labels"
import altair as alt
from pipeline.briefing.display import Chart
rows = [{"name": "港股通", "n": 3}, {"name": "Alibaba", "n": 2}]
Chart(alt.Chart(alt.Data(values=rows)).mark_bar().encode(y="name:N", x="n:Q"), "cjk")
```

```{python}
from pipeline.briefing.display import Markdown
Markdown("```{=typst}\\n#key-findings[\\n```\\n\\n**Key findings**\\n\\n- one\\n\\n```{=typst}\\n]\\n```\\n")
```
"""


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("print")
    (root / "report").mkdir()
    (root / "meta").mkdir()
    shutil.copytree(PROJECT_ROOT / "report" / "_typst", root / "report" / "_typst")
    (root / "_quarto.yml").write_text(
        "project:\n  type: website\n  output-dir: _site\n  execute-dir: project\n"
        "  render: [report/index.qmd]\nmetadata-files: [meta/edition.yml]\n"
    )
    (root / "meta" / "edition.yml").write_text(
        'edition: "2025-11-18-cafe0001"\nas-of: "2025-11-18"\n'
    )
    (root / "report" / "index.qmd").write_text(PAGE)
    render_project(root, log=lambda *_: None)
    return root / "_site" / "report" / "brief.pdf"


def test_footer_carries_edition_and_page_numbers(pdf: Path) -> None:
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2  # cover with contents, then the body
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        # Once on every page: on the cover in its title block, on the others in the footer.
        assert text.count("Edition 2025-11-18-cafe0001") == 1
        assert f"Page {number} of {len(reader.pages)}" in text


def test_cjk_text_is_set_in_an_embedded_cjk_font(pdf: Path) -> None:
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "阿里巴巴股价在香港上涨" in text
    assert "阿里巴巴集团" in text
    assert "港股通" in text  # a chart label: the SVG's text is set in the same fonts
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    cjk = [line for line in fonts.stdout.splitlines() if "CJK" in line]
    assert cjk, fonts.stdout
    assert all(line.split()[-5] == "yes" for line in cjk)  # the "emb" column


def test_key_findings_box_is_drawn(pdf: Path, tmp_path: Path) -> None:
    reader = PdfReader(pdf)
    number = next(i for i, p in enumerate(reader.pages, 1) if "Key findings" in p.extract_text())
    prefix = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", str(number), "-l", str(number), str(pdf), str(prefix)],
        check=True,
    )
    data = next(tmp_path.glob("page*.ppm")).read_bytes()
    # P6 header: magic, width, height, maxval, then RGB bytes.
    magic, width, height, _max, pixels = data.split(maxsplit=4)
    assert magic == b"P6"
    rgb = [tuple(pixels[i : i + 3]) for i in range(0, int(width) * int(height) * 3, 3)]
    # The box's red rule (#b3261e) and its tinted fill (#faf6f5) are both drawn.
    red = sum(1 for r, g, b in rgb if r > 150 and g < 80 and b < 80)
    tint = sum(1 for px in rgb if px == (250, 246, 245))
    assert red > 10 and tint > 100, (red, tint)


@pytest.mark.parametrize("filler_words", range(100, 800, 50))
def test_key_findings_box_is_never_split_across_pages(tmp_path: Path, filler_words: int) -> None:
    """Whatever text comes before it, the box of the print partial lands whole on one page
    (with a breakable block, four of these fillers split the eight-bullet box)."""
    shutil.copy(PROJECT_ROOT / "report" / "_typst" / "typst-template.typ", tmp_path)
    bullets = "".join(f"- finding {i} #lorem(12)\n" for i in range(8))
    (tmp_path / "page.typ").write_text(
        '#import "typst-template.typ": key-findings\n#set page(height: 20cm)\n'
        f"#lorem({filler_words})\n\n#key-findings[*Key findings*\n\n{bullets}]\n"
    )
    reader = PdfReader(io.BytesIO(typst.compile(str(tmp_path / "page.typ"))))
    pages = [n for n, page in enumerate(reader.pages) if "finding" in page.extract_text()]
    assert len(pages) == 1, pages


@pytest.mark.parametrize("filler_words", range(500, 700, 20))
def test_a_table_caption_is_never_left_alone_at_a_page_foot(
    tmp_path: Path, filler_words: int
) -> None:
    """Under the briefing's show rules a table's caption lands on the page of its first row,
    whatever text comes before (rows of 80 words: with a plain caption, fillers of 560 to 600
    words leave it alone at the foot of the first page)."""
    shutil.copy(PROJECT_ROOT / "report" / "_typst" / "typst-template.typ", tmp_path)
    rows = "".join(f"[row{i}], [#lorem(80)],\n" for i in range(6))
    (tmp_path / "page.typ").write_text(
        '#import "typst-template.typ": briefing\n#show: doc => briefing(title: [T], doc)\n'
        f"#lorem({filler_words})\n\n"
        f"#figure(kind: table, caption: [CAPTIONX], table(columns: 2, {rows}))\n"
    )
    reader = PdfReader(io.BytesIO(typst.compile(str(tmp_path / "page.typ"))))
    texts = [page.extract_text() for page in reader.pages]
    caption = next(n for n, t in enumerate(texts) if "CAPTIONX" in t)
    assert "row0" in texts[caption], (caption, [("row0" in t) for t in texts])
