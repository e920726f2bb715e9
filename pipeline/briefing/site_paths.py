"""Where the cells' files are: the docs they quote, the data behind each chart and the Vega
scripts in the site. Shared by the cells (`sections`, `display`), the execution cache and the
post-render step, which need the paths but not the chart library behind `display` (altair: a
tenth of a second to import in every process)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"  # the methodology pages quote these

# Report pages live in report/, one level below the site root, under both engines.
SITE_ROOT_FROM_PAGE = ".."
VEGA_BUNDLE = "libs/vega/vega-bundle.js"
CHART_DATA_DIR = Path("data") / "charts"  # inside processed dir and inside the site
