"""Helpers for the browser, link and PDF tests, which look at the real site.

`tests/conftest.py` builds the real `_site/` once per session from the seed corpus and the
market snapshot. `BRIEFING_TEST_SITE` points the tests at an already-built site instead
(e.g. `BRIEFING_TEST_SITE=_site`), which skips the build.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SITE_ENV = "BRIEFING_TEST_SITE"
REPO_ROOT = Path(__file__).resolve().parent.parent
BRIEFING_PAGE = Path("report") / "index.html"


def find_pdf(site: Path) -> Path:
    """The briefing PDF inside a built site: the one next to the briefing page."""
    pdfs = sorted((site / BRIEFING_PAGE.parent).glob("*.pdf"))
    if not pdfs:
        raise FileNotFoundError(f"no PDF in {site / BRIEFING_PAGE.parent}")
    return pdfs[0]


def given_site() -> Path | None:
    """An already-built site named by `BRIEFING_TEST_SITE`, to test without rebuilding."""
    given = os.environ.get(SITE_ENV, "").strip()
    if not given:
        return None
    site = Path(given).resolve()
    if not (site / BRIEFING_PAGE).is_file():
        pytest.fail(f"{SITE_ENV}={given}: no {BRIEFING_PAGE} there; build the site first")
    return site


def html_pages(site: Path) -> list[Path]:
    """Every HTML file of the site, in a stable order."""
    return sorted(site.rglob("*.html"))


def artifacts_dir() -> Path:
    """`test-artifacts/` at the top of the checkout (git-ignored), created on demand."""
    out = REPO_ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    return out
