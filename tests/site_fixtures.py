"""The site the browser, link and PDF tests look at: the real `_site/` or a small demo.

`BRIEFING_TEST_SITE` points the tests at an already-built site (e.g. `_site`). Without it they
build a demo project with the built-in renderer, post-render included, so the same checks run
on a fresh clone in seconds. The demo has what the real site has that can break in a browser:
two pages, charts with tooltips and CSV downloads, a table holding hostile text, and a PDF.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SITE_ENV = "BRIEFING_TEST_SITE"
REPO_ROOT = Path(__file__).resolve().parent.parent
BRIEFING_PAGE = Path("report") / "index.html"
DEMO_EDITION = {"edition": "2025-11-18-demo0001", "as-of": "2025-11-18"}

QUARTO_YML = """\
project:
  type: website
  output-dir: _site
  execute-dir: project
  render: [report/index.qmd, report/other.qmd]
  post-render: python -m pipeline post-render
metadata-files: [processed/edition.yml]
website:
  title: Demo briefing
  navbar:
    left:
      - href: report/index.qmd
        text: Briefing
      - href: report/other.qmd
        text: Other
format:
  html:
    toc: true
execute:
  echo: false
  warning: false
"""

# A line with points on top, like the price chart: tooltips on the points, data for download.
INDEX_QMD = """\
---
title: "Demo briefing"
format:
  html: default
  typst:
    output-file: alibaba-briefing.pdf
---

## Prices

```{python}
import altair as alt
import polars as pl
from pipeline.display import Chart, table
days = pl.date_range(pl.date(2025, 1, 1), pl.date(2025, 1, 20), eager=True)
df = pl.DataFrame({"date": days.cast(pl.String), "close": [float(i % 7 + i) for i in range(20)]})
```

```{python}
#| label: fig-demo-line
#| fig-cap: "A demo line with points"
#| fig-alt: "Demo closes over twenty days"
base = alt.Chart(alt.Data(values=df.to_dicts()))
tip = [alt.Tooltip("date:T"), alt.Tooltip("close:Q")]
Chart(alt.layer(base.mark_line().encode(x="date:T", y="close:Q"),
                base.mark_point(filled=True, size=80).encode(x="date:T", y="close:Q", tooltip=tip))
      .properties(width="container", height=240), "demo-line", data=df,
      alt_text="Demo closes over twenty days")
```

## Articles

```{python}
table(pl.DataFrame({"title": ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"],
                    "source": ["Demo Wire", "Demo Post"]}), caption="Hostile titles")
```
"""

OTHER_QMD = """\
---
title: "Other page"
---

Back to the [briefing](index.html).

```{python}
#| label: fig-demo-bars
#| fig-cap: "Demo bars"
import altair as alt
import polars as pl
from pipeline.display import Chart
bars = pl.DataFrame({"group": ["a", "b", "c"], "n": [3, 1, 2]})
Chart(alt.Chart(alt.Data(values=bars.to_dicts())).mark_bar().encode(
    x="group:N", y="n:Q", tooltip=["group:N", "n:Q"]), "demo-bars", data=bars)
```
"""


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def write_demo_project(root: Path) -> Path:
    """Write the demo sources and the edition metadata post-render reads; returns `root`."""
    (root / "report").mkdir(parents=True, exist_ok=True)
    processed = root / "processed"
    processed.mkdir(exist_ok=True)
    (root / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
    (root / "report" / "index.qmd").write_text(INDEX_QMD, encoding="utf-8")
    (root / "report" / "other.qmd").write_text(OTHER_QMD, encoding="utf-8")
    (processed / "edition.json").write_text(json.dumps(DEMO_EDITION), encoding="utf-8")
    (processed / "edition.yml").write_text(
        "".join(f'{k}: "{v}"\n' for k, v in DEMO_EDITION.items()), encoding="utf-8"
    )
    return root


def build_demo_site(tmp_path: Path) -> Path:
    """Render the demo project under `tmp_path` with the built-in renderer; returns its `_site`.

    The kernel and the post-render step both find the processed folder through
    `BRIEFING_PROCESSED_DIR`, as in a real build.
    """
    from pipeline.render import render_project

    root = write_demo_project(tmp_path / "demo-project")
    # run_scripts puts only the project folder on PYTHONPATH, so `python -m pipeline` in
    # post-render needs the checkout added when the project lives elsewhere.
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    with _env("BRIEFING_PROCESSED_DIR", str(root / "processed")), _env("PYTHONPATH", pythonpath):
        render_project(root, log=print)
    return root / "_site"


def find_pdf(site: Path) -> Path:
    """The briefing PDF inside a built site: the one next to the briefing page."""
    pdfs = sorted((site / BRIEFING_PAGE.parent).glob("*.pdf"))
    if not pdfs:
        raise FileNotFoundError(f"no PDF in {site / BRIEFING_PAGE.parent}")
    return pdfs[0]


def resolve_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`BRIEFING_TEST_SITE` when set, else the demo site, built once per test session."""
    given = os.environ.get(SITE_ENV, "").strip()
    if given:
        site = Path(given).resolve()
        if not (site / BRIEFING_PAGE).is_file():
            pytest.fail(f"{SITE_ENV}={given}: no {BRIEFING_PAGE} there; build the site first")
        return site
    # Cached under the session's base temp folder, so every module shares one build.
    base = tmp_path_factory.getbasetemp() / "demo-site"
    site = base / "demo-project" / "_site"
    done = base / "built"
    if not done.is_file():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        build_demo_site(base)
        done.write_text("ok\n")
    return site


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return resolve_site(tmp_path_factory)


@pytest.fixture(scope="session")
def pdf_path(site_dir: Path) -> Path:
    return find_pdf(site_dir)


def html_pages(site: Path) -> list[Path]:
    """Every HTML file of the site, in a stable order."""
    return sorted(site.rglob("*.html"))


def artifacts_dir() -> Path:
    """`test-artifacts/` at the top of the checkout (git-ignored), created on demand."""
    out = REPO_ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    return out
