"""Finishing the rendered site: the parts both engines need and neither writes by itself.

Run as the `post-render` step of `_quarto.yml`, so real Quarto and the built-in renderer
finish the site identically: Vega scripts served from the site (never a CDN), the stylesheet,
every table as CSV and Parquet for download, the data behind each chart, an edition-named
copy of the PDF and a root `index.html` that leads to the briefing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from pipeline.display import CHART_DATA_DIR, VEGA_BUNDLE
from pipeline.tables import TABLE_NAMES, load_edition, write_text_atomic

TEMPLATES = Path(__file__).parent / "templates"
BRIEFING_PAGE = "report/index.html"
PDF_NAME = "alibaba-briefing.pdf"


def pdf_name(edition_id: str) -> str:
    return f"alibaba-briefing-{edition_id}.pdf"


def csv_safe(df: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists or structs: write them as JSON text so no column is lost."""
    nested = [n for n, t in df.schema.items() if isinstance(t, pl.List | pl.Struct | pl.Array)]
    if not nested:
        return df
    # Wrapping each value in a one-field struct lets Polars JSON-encode any nesting.
    return df.with_columns(
        pl.struct(pl.col(n).alias("v")).struct.json_encode().str.slice(5).str.head(-1).alias(n)
        for n in nested
    )


def write_vega_bundle(site_dir: Path) -> Path:
    """The Vega, Vega-Lite and vega-embed scripts, bundled offline by vl-convert."""
    import vl_convert as vlc

    target = site_dir / VEGA_BUNDLE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(vlc.javascript_bundle(), encoding="utf-8")
    return target


def copy_downloads(processed_dir: Path, site_dir: Path) -> list[Path]:
    """Every table as Parquet and CSV, and each chart's data as CSV, under `_site/data/`."""
    out = site_dir / "data"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLE_NAMES:
        src = processed_dir / f"{name}.parquet"
        if not src.is_file():
            continue
        shutil.copyfile(src, out / src.name)
        csv_safe(pl.read_parquet(src)).write_csv(out / f"{name}.csv")
        written += [out / src.name, out / f"{name}.csv"]
    charts = processed_dir / CHART_DATA_DIR.relative_to("data")
    if charts.is_dir():
        target = site_dir / CHART_DATA_DIR
        target.mkdir(parents=True, exist_ok=True)
        for csv in sorted(charts.glob("*.csv")):
            shutil.copyfile(csv, target / csv.name)
            written.append(target / csv.name)
    return written


def write_root_index(site_dir: Path) -> Path:
    """A root page that forwards to the briefing; it works from file:// and any host."""
    target = site_dir / "index.html"
    target.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={BRIEFING_PAGE}">'
        "<title>Alibaba 2025: the risk narrative</title></head>"
        f'<body><p><a href="{BRIEFING_PAGE}">Open the briefing</a></p></body></html>\n',
        encoding="utf-8",
    )
    return target


def post_render(site_dir: Path, processed_dir: Path) -> list[Path]:
    """Finish `site_dir` after the pages are rendered; returns the files written."""
    edition = load_edition(processed_dir)
    written = [write_vega_bundle(site_dir)]
    css = site_dir / "libs" / "site.css"
    shutil.copyfile(TEMPLATES / "site.css", css)
    written.append(css)
    written += copy_downloads(processed_dir, site_dir)
    written.append(write_root_index(site_dir))
    pdf = site_dir / "report" / PDF_NAME
    if pdf.is_file():
        named = site_dir / pdf_name(edition["edition"])
        shutil.copyfile(pdf, named)
        written.append(named)
    write_text_atomic(edition["edition"] + "\n", site_dir / "EDITION")
    return written
