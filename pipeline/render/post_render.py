"""Finishing the rendered site: the parts both engines need and neither writes by itself.

Run as the `post-render` step of `_quarto.yml`, so real Quarto and the built-in renderer
finish the site identically: Vega scripts served from the site (never a CDN),
every table as CSV and Parquet for download, the data behind each chart, an edition-named
copy of the PDF and a root `index.html` that leads to the briefing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl

from pipeline.briefing.site_paths import CHART_DATA_DIR, VEGA_BUNDLE
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.io import write_text_atomic
from pipeline.tables import TABLE_NAMES, load_edition, load_tables

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
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


def write_vega_bundle(site_dir: Path, cache_dir: Path | None = None) -> Path:
    """The Vega, Vega-Lite and vega-embed scripts, bundled offline by vl-convert.

    Bundling takes vl-convert about 2 s and depends only on its version, so with `cache_dir`
    the bundle is kept there under that version and copied on later builds.
    """
    import importlib.metadata

    import vl_convert as vlc

    target = site_dir / VEGA_BUNDLE
    target.parent.mkdir(parents=True, exist_ok=True)
    if cache_dir is None:
        target.write_text(vlc.javascript_bundle(), encoding="utf-8")
        return target
    version = importlib.metadata.version("vl-convert-python")
    kept = cache_dir / f"vega-bundle-{version}.js"
    if not kept.is_file():
        write_text_atomic(vlc.javascript_bundle(), kept)
    shutil.copyfile(kept, target)
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


def write_key_findings(site_dir: Path, processed_dir: Path, as_of: str) -> Path:
    """The findings as JSON, for the email body (same text as the briefing's box)."""
    from pipeline.briefing.narrative import key_findings

    target = site_dir / "key_findings.json"
    import pypandoc

    # Plain text: the email escapes it for HTML itself.
    findings = [
        pypandoc.convert_text(item, "plain", format="markdown", extra_args=["--wrap=none"]).strip()
        for item in key_findings(load_tables(processed_dir), as_of)
    ]
    target.write_text(json.dumps(findings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return target


def copy_archive(
    editions_dir: Path, site_dir: Path, site_url: str, as_of: str | None = None
) -> list[Path]:
    """Published editions inside the site (so permalinks work when deployed) and their feed."""
    from pipeline.editions.archive import list_editions
    from pipeline.editions.feed import feed_xml

    written = []
    if editions_dir.is_dir() and any(editions_dir.iterdir()):
        shutil.copytree(
            editions_dir,
            site_dir / "editions",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".*"),
        )
        written.append(site_dir / "editions")
    feed = site_dir / "editions.xml"
    current = dt.date.fromisoformat(as_of) if as_of else None
    feed.write_text(feed_xml(list_editions(editions_dir), site_url, current), encoding="utf-8")
    written.append(feed)
    return written


def write_site_manifest(site_dir: Path, settings: Settings, edition: dict[str, str]) -> Path:
    """The manifest, written last so it can hash every other output."""
    from pipeline.editions.identity import Edition, input_files_by_kind
    from pipeline.editions.manifest import build_manifest, write_manifest

    ed = Edition(as_of=dt.date.fromisoformat(edition["as-of"]), inputs_hash=edition["inputs-hash"])
    manifest = build_manifest(ed, input_files_by_kind(settings), site_dir, PROJECT_ROOT)
    target = site_dir / "manifest.json"
    write_manifest(manifest, target)
    return target


def post_render(site_dir: Path, settings: Settings) -> list[Path]:
    """Finish `site_dir` after the pages are rendered; returns the files written."""
    processed_dir = settings.processed_dir
    edition = load_edition(processed_dir)
    from pipeline.render.build import cache_dir

    written = [write_vega_bundle(site_dir, cache_dir(settings))]
    written += copy_downloads(processed_dir, site_dir)
    written.append(write_root_index(site_dir))
    pdf = site_dir / "report" / PDF_NAME
    if pdf.is_file():
        named = site_dir / pdf_name(edition["edition"])
        shutil.copyfile(pdf, named)
        written.append(named)
    written.append(write_key_findings(site_dir, processed_dir, edition["as-of"]))
    written += copy_archive(settings.editions_dir, site_dir, settings.site_url, edition["as-of"])
    write_text_atomic(edition["edition"] + "\n", site_dir / "EDITION")
    written.append(write_site_manifest(site_dir, settings, edition))
    return written
