"""Issue 6: an edition rebuilt from the same inputs gives byte-identical tables and PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.editions.edition import build_edition
from pipeline.render.engine import render_project

AS_OF = dt.date(2025, 11, 14)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory, make_settings) -> list[Path]:
    """The 2025-11-14 edition built twice, from scratch, into two folders."""
    outs = []
    for n in range(2):
        root = tmp_path_factory.mktemp(f"build{n}")
        settings = make_settings(root, as_of=AS_OF)
        build_edition(settings)
        old = os.environ.get("BRIEFING_PROCESSED_DIR")
        os.environ["BRIEFING_PROCESSED_DIR"] = str(settings.processed_dir)
        try:
            render_project(
                PROJECT_ROOT, root / "site", log=lambda *_: None, only=["report/index.qmd"]
            )
        finally:
            if old is None:
                os.environ.pop("BRIEFING_PROCESSED_DIR")
            else:
                os.environ["BRIEFING_PROCESSED_DIR"] = old
        outs.append(root)
    return outs


def test_tables_are_byte_identical(two_builds: list[Path]) -> None:
    first, second = (sorted((b / "processed").glob("*.parquet")) for b in two_builds)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert sha(a) == sha(b), a.name


def test_pdf_is_byte_identical_and_dated_as_of(two_builds: list[Path]) -> None:
    pdfs = [b / "site" / "report" / "alibaba-briefing.pdf" for b in two_builds]
    assert sha(pdfs[0]) == sha(pdfs[1])
    from pypdf import PdfReader

    assert PdfReader(pdfs[0]).metadata["/CreationDate"].startswith("D:" + AS_OF.strftime("%Y%m%d"))


def test_edition_uses_no_row_after_its_date(two_builds: list[Path]) -> None:
    processed = two_builds[0] / "processed"
    for name, col in (
        ("prices", "date"),
        ("returns", "date"),
        ("articles", "published_date"),
        ("events", "event_date"),
        ("claims", "claim_date"),
    ):
        df = pl.read_parquet(processed / f"{name}.parquet")
        assert df[col].drop_nulls().max() is None or df[col].drop_nulls().max() <= AS_OF, name


# A stand-in for Quarto (which cannot be installed here) that records what it was given.
RECORDING_QUARTO = """#!/bin/sh
out="$3"
mkdir -p "$out"
echo "args=$*" > "$out/seen.txt"
echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH" >> "$out/seen.txt"
echo "BRIEFING_RENDER_ENGINE=$BRIEFING_RENDER_ENGINE" >> "$out/seen.txt"
echo "QUARTO_PYTHON=$QUARTO_PYTHON" >> "$out/seen.txt"
"""


def test_quarto_gets_source_date_epoch_from_the_as_of_date(
    tables, settings, tmp_path, monkeypatch
) -> None:
    """Quarto's Typst dates the PDF by SOURCE_DATE_EPOCH, so the build sets it for Quarto."""
    import sys

    from pipeline.render.build import render_site

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "quarto").write_text(RECORDING_QUARTO)
    (bin_dir / "quarto").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("QUARTO_PYTHON", raising=False)
    out = render_site(settings, "quarto", log=lambda *_: None)
    seen = dict(line.split("=", 1) for line in (out / "seen.txt").read_text().splitlines()[1:])
    as_of = tables.edition.as_of
    midnight = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC)
    assert seen["SOURCE_DATE_EPOCH"] == str(int(midnight.timestamp()))
    assert seen["BRIEFING_RENDER_ENGINE"] == "quarto"
    assert seen["QUARTO_PYTHON"] == sys.executable  # post-render runs with the project's Python
