"""The command line on broken configuration: one clear message with the fix, exit 2, and nothing
already built is touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from pipeline.config import PROJECT_ROOT


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, **env)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=PROJECT_ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_missing_market_dir_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("tables", "--out", str(tmp_path / "out"), BRIEFING_MARKET_DIR=str(missing))
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "fix: set BRIEFING_MARKET_DIR" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_as_of_is_explained(tmp_path: Path) -> None:
    result = run("tables", "--out", str(tmp_path), BRIEFING_AS_OF="14/11/2025")
    assert result.returncode == 2
    assert "BRIEFING_AS_OF='14/11/2025' is not a date" in result.stderr
    assert "YYYY-MM-DD" in result.stderr


def test_as_of_outside_market_data_is_explained(tmp_path: Path) -> None:
    result = run("tables", "--out", str(tmp_path), BRIEFING_AS_OF="2031-01-01")
    assert result.returncode == 2
    assert "outside the market data" in result.stderr
    assert "choose BRIEFING_AS_OF between" in result.stderr


def test_empty_corpus_stops_the_build(tmp_path: Path) -> None:
    empty = tmp_path / "articles"
    empty.mkdir()
    result = run("tables", "--out", str(tmp_path / "out"), BRIEFING_ARTICLES_DIR=str(empty))
    assert result.returncode == 2
    assert str(empty) in result.stderr
    assert "Traceback" not in result.stderr


def test_failed_report_keeps_the_previous_site(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("last good edition")
    result = run(
        "report",
        BRIEFING_SITE_DIR=str(site),
        BRIEFING_PROCESSED_DIR=str(tmp_path / "p"),
        BRIEFING_AS_OF="2031-01-01",
    )
    assert result.returncode == 2
    assert (site / "index.html").read_text() == "last good edition"


def test_tables_command_writes_every_table(tmp_path: Path) -> None:
    result = run("tables", "--out", str(tmp_path), BRIEFING_AS_OF="2025-11-14")
    assert result.returncode == 0, result.stderr
    assert "edition 2025-11-14-" in result.stdout
    articles = pl.read_parquet(tmp_path / "articles.parquet")
    assert articles["published_date"].drop_nulls().max().isoformat() <= "2025-11-14"
    for name in ("prices", "returns", "claims", "events", "flows", "key_numbers"):
        assert (tmp_path / f"{name}.parquet").is_file()
