"""Only what changed is rebuilt: the no-op check and the built-in renderer's per-cell cache."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT
from pipeline.render import freeze, freshness
from pipeline.render.engine import render_project

PAGE = """---
title: Cache test
format: html
---

```{python}
from pipeline.briefing import sections as briefing
print("as of", briefing.edition()["as-of"])
```

```{python}
briefing.doc("methodology.md", sections=("Claims",))
```

```{python}
print("claims rows:", briefing.tables()["claims"].height)
```

```{python}
print("prices rows:", briefing.tables()["prices"].height)
```
"""
QUARTO_YML = """project:
  type: website
  render:
    - page.qmd
website:
  title: cache test
"""


def cell(reads: dict, pure: bool = True, binds_data: bool = False) -> dict:
    return {"outputs": [], "pure": pure, "binds_data": binds_data, "reads": reads}


def test_plan_reuses_cells_whose_reads_are_unchanged():
    values = {"table:a": "1", "table:b": "2", "edition:edition": "new"}
    cells = [
        cell({"edition:edition": "old"}, pure=False),  # an import plus an edition field
        cell({"table:a": "1"}),
        cell({"table:b": "changed"}),
    ]
    p = freeze.plan(cells, 3, values.get)
    assert p.run == [0, 2] and p.reuse == [False, True, False]
    assert freeze.plan(None, 3, values.get).run == [0, 1, 2]
    fresh = [cell({"table:a": "1"}, pure=False), cell({"table:b": "2"})]
    assert freeze.plan(fresh, 2, values.get).reuse == [True, True]  # no kernel at all


def test_a_setup_cell_that_binds_changed_data_invalidates_the_rest():
    values = {"table:a": "new", "table:b": "2"}
    cells = [cell({"table:a": "old"}, pure=False, binds_data=True), cell({"table:b": "2"})]
    assert freeze.plan(cells, 2, values.get).run == [0, 1]


def test_unknown_reads_never_match():
    from pipeline.config import Settings

    resolve = freeze.resolver(Settings())
    assert resolve("mystery:x") is None
    assert freeze.plan([cell({"mystery:x": "v"})], 1, resolve).run == [0]


@pytest.fixture
def project(tmp_path, tables, settings, monkeypatch) -> Path:
    """A one-page project reading a private copy of the built tables."""
    processed = tmp_path / "processed"
    shutil.copytree(settings.processed_dir, processed)
    monkeypatch.setenv("BRIEFING_PROCESSED_DIR", str(processed))
    root = tmp_path / "project"
    root.mkdir()
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "page.qmd").write_text(PAGE)
    return root


def rendered(project: Path, cache: Path) -> tuple[str, str]:
    from pipeline.config import Settings

    lines: list[str] = []
    out = project.parent / "out"
    shutil.rmtree(out, ignore_errors=True)
    render_project(project, out, log=lines.append, cache=freeze.Cache(cache, Settings.from_env()))
    return (out / "page.html").read_text(encoding="utf-8"), "\n".join(lines)


def test_the_cache_reruns_only_cells_whose_tables_changed(project, tmp_path):
    cache = tmp_path / "freeze"
    html1, log1 = rendered(project, cache)
    assert "0 of 4 cells from the cache" in log1
    html2, log2 = rendered(project, cache)
    assert "4 of 4 cells from the cache" in log2 and html2 == html1
    # drop one claim: the claims cell runs again (with the import), the others are kept
    claims = tmp_path / "processed" / "claims.parquet"
    before = pl.read_parquet(claims)
    before.head(before.height - 1).write_parquet(claims)
    html3, log3 = rendered(project, cache)
    assert "2 of 4 cells from the cache" in log3
    assert f"claims rows: {before.height - 1}" in html3
    assert f"claims rows: {before.height}" in html1
    entry = json.loads(next(cache.glob("*.json")).read_text())
    assert [c["pure"] for c in entry["cells"]] == [False, True, True, True]


def test_report_returns_at_once_when_nothing_changed(tmp_path, make_settings, monkeypatch):
    """The no-op check needs a manifest, the tables' edition and the saved build state."""
    from pipeline.editions.identity import compute_edition
    from pipeline.io import write_json_atomic

    s = make_settings(tmp_path)
    monkeypatch.setattr(freshness, "build_state", lambda settings, engine: {"engine": engine})
    edition = compute_edition(s, __import__("datetime").date(2025, 11, 19))
    assert freshness.current_edition(s, "builtin") is None  # nothing built yet
    write_json_atomic(
        {"edition_id": edition.id, "as_of": "2025-11-19", "inputs_hash": edition.inputs_hash},
        s.site_dir / "manifest.json",
    )
    write_json_atomic({"edition": edition.id}, s.processed_dir / "edition.json")
    freshness.record_build(s, "builtin", edition.id)
    assert freshness.current_edition(s, "builtin") == edition.id
    assert freshness.current_edition(s, "quarto") is None  # another engine: rebuild
    # one more article: the inputs hash differs, so the site is not current
    articles = tmp_path / "articles"
    shutil.copytree(s.articles_dir, articles)
    (articles / "new.txt").write_text("Alibaba shares rose on Friday.\n")
    assert (
        freshness.current_edition(dataclasses.replace(s, articles_dir=articles), "builtin") is None
    )


# Written for this test: a short market story whose one claim the engine must find.
NEW_ARTICLE = """Alibaba stock climbs after cloud update

Alibaba's Hong Kong shares gained 2.1% on Tuesday after the group described faster growth in
its cloud business. The Hang Seng Index ended the session slightly lower.
"""
PAGES = ["index", "claims", "data", "methodology", "editions"]


def test_one_new_article_reaches_every_page_that_shows_it(tmp_path: Path) -> None:
    """The incremental build reuses what it can, yet a new article still changes the stamp of
    every page (also those that start no kernel) and the claims page, and the PDF's edition."""
    articles = tmp_path / "articles"
    shutil.copytree(PROJECT_ROOT / "data" / "articles", articles)
    site = tmp_path / "site" / "_site"
    env = dict(
        os.environ,
        BRIEFING_ARTICLES_DIR=str(articles),
        BRIEFING_PROCESSED_DIR=str(tmp_path / "processed"),
        BRIEFING_SITE_DIR=str(site),
        BRIEFING_EDITIONS_DIR=str(tmp_path / "editions"),
        QUARTO="0",
        FORCE="",
    )

    def build() -> tuple[str, str, dict[str, str]]:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "report", "--engine", "builtin"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        html = {p: (site / "report" / f"{p}.html").read_text(encoding="utf-8") for p in PAGES}
        return (site / "EDITION").read_text().strip(), done.stdout, html

    old_id, _, old_html = build()
    (articles / "cloud_update.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (articles / "cloud_update.meta.yml").write_text(
        "source: tests.example\npublished_at: '2025-11-18'\ntitle: Alibaba cloud update\n"
    )
    new_id, log, new_html = build()
    assert new_id != old_id and new_id.startswith(old_id[:11])  # same as-of, new inputs
    for name in PAGES:
        stamp = re.search(r'<div class="edition-line">\s*<p>(.*?)</p>', new_html[name])
        assert stamp, f"{name}: no edition stamp"
        assert stamp[1] == f"Edition {new_id} · data as of {new_id[:10]}", name
        assert old_id not in new_html[name] and old_id in old_html[name], name
    quote = "gained 2.1% on Tuesday"  # the claim the engine quotes from the new article
    assert quote in new_html["claims"] and quote not in old_html["claims"]
    # The methodology page reads nothing an article changes: its cells all come from the
    # cache and no kernel starts, yet its stamp above is the new one.
    line = next(x for x in log.splitlines() if "report/methodology.qmd -> html" in x)
    assert "5 of 5 cells from the cache" in line and "kernel start" not in line
    pdf = next(site.glob("report/*.pdf"))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert f"Edition {new_id}" in text and old_id not in text
