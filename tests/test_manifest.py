"""Manifest: complete, reproducible byte for byte, and free of secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.archive import verify_outputs
from pipeline.editions.identity import compute_edition, input_files_by_kind
from pipeline.editions.manifest import (
    build_manifest,
    manifest_summary,
    render_engine,
    write_manifest,
)

AS_OF = dt.date(2025, 11, 14)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    (d / "data").mkdir(parents=True)
    (d / "index.html").write_text("<html>briefing</html>")
    pl.DataFrame({"name": ["a"], "value": [1.5], "unit": ["%"]}).write_parquet(
        d / "data" / "key_numbers.parquet"
    )
    (d / "editions" / "old").mkdir(parents=True)  # copied archive: not this edition's output
    (d / "editions" / "old" / "x.html").write_text("old")
    return d


def real_manifest(out: Path) -> dict:
    settings = Settings()
    edition = compute_edition(settings, AS_OF)
    return build_manifest(edition, input_files_by_kind(settings), out, PROJECT_ROOT)


def test_manifest_records_inputs_outputs_and_tools(out):
    settings = Settings()
    manifest = real_manifest(out)
    assert manifest["edition_id"] == compute_edition(settings, AS_OF).id
    assert manifest["as_of"] == AS_OF.isoformat()
    # Every real input file is hashed, grouped by kind, with its actual SHA-256.
    for kind, files in input_files_by_kind(settings).items():
        recorded = manifest["inputs"][kind]
        assert len(recorded) == len(files)
        assert sorted(recorded.values()) == sorted(sha(p) for p in files)
    assert len(manifest["inputs"]["articles"]) == len(
        list((PROJECT_ROOT / "data" / "articles").glob("*.txt"))
    )
    assert manifest["outputs"] == {
        "data/key_numbers.parquet": sha(out / "data" / "key_numbers.parquet"),
        "index.html": sha(out / "index.html"),
    }
    assert manifest["uv_lock_sha256"] == sha(PROJECT_ROOT / "uv.lock")
    tools = manifest["tools"]
    assert tools["python"] == platform.python_version()
    assert tools["polars"] == pl.__version__
    assert set(tools) == {"python", "polars", "altair", "vl-convert", "pandoc", "typst", "quarto"}
    assert set(manifest["git"]) == {"commit", "dirty"}


def test_rebuild_is_byte_identical_and_excludes_itself(out, tmp_path):
    first, second = tmp_path / "m1.json", out / "manifest.json"
    write_manifest(real_manifest(out), first)
    write_manifest(real_manifest(out), second)  # now the manifest sits in the output folder
    assert first.read_bytes() == second.read_bytes()
    text = second.read_text()
    assert json.loads(text)["edition_id"] in text and text.endswith("\n")
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert verify_outputs(json.loads(text), out) == []
    (out / "index.html").write_text("<html>edited after the build</html>")
    assert verify_outputs(json.loads(text), out) == ["changed: index.html"]


def test_no_secret_or_environment_value_leaks(out, monkeypatch):
    secret = "pw-7f3c9e1d-never-in-manifest"
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", secret)
    monkeypatch.setenv("BRIEFING_SMTP_USER", secret + "-user")
    text = json.dumps(real_manifest(out))
    assert secret not in text


def test_without_git_commit_is_null(tmp_path, out):
    root = tmp_path / "not-a-repo"
    root.mkdir()
    edition = compute_edition(Settings(), AS_OF)
    manifest = build_manifest(edition, {"articles": []}, out, root)
    assert manifest["git"] == {"commit": None, "dirty": None}
    assert manifest["uv_lock_sha256"] is None
    assert set(manifest["inputs"]) == {"articles", "market", "lexicons", "reference"}


def test_summary_line(out):
    manifest = real_manifest(out)
    line = manifest_summary(manifest)
    assert "\n" not in line
    assert manifest["edition_id"] in line and manifest["as_of"] in line
    assert f"Polars {pl.__version__}" in line
    n = sum(len(v) for v in manifest["inputs"].values())
    assert f"{n} input files" in line
    if manifest["git"]["commit"]:
        assert manifest["git"]["commit"][:10] in line


# A stand-in for Quarto (which cannot be installed here), answering the three version questions
# with versions `.venv` does not have, so the test can tell whose tools were recorded.
FAKE_QUARTO = """#!/bin/sh
case "$1" in
  --version) echo "1.10.18" ;;
  pandoc) echo "pandoc 3.99.1"; echo "Features: +server +lua" ;;
  typst) echo "typst 0.99.2 (0123abcd)" ;;
  *) exit 1 ;;
esac
"""


@pytest.fixture
def fake_quarto(tmp_path: Path) -> Path:
    folder = tmp_path / "quarto-bin"
    folder.mkdir()
    (folder / "quarto").write_text(FAKE_QUARTO)
    (folder / "quarto").chmod(0o755)
    return folder


def test_quarto_engine_records_quartos_own_pandoc_and_typst(out, fake_quarto, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_quarto}:{os.environ['PATH']}")
    monkeypatch.setenv("BRIEFING_RENDER_ENGINE", "quarto")
    manifest = real_manifest(out)
    assert manifest["engine"] == "quarto"
    tools = manifest["tools"]
    assert (tools["quarto"], tools["pandoc"], tools["typst"]) == ("1.10.18", "3.99.1", "0.99.2")
    assert tools["polars"] == pl.__version__  # the cells still ran with .venv's packages
    line = manifest_summary(manifest)
    assert "rendered by Quarto" in line and "Typst 0.99.2" in line and "pandoc 3.99.1" in line


def test_builtin_engine_records_the_venvs_tools_even_with_quarto_installed(
    out, fake_quarto, monkeypatch
):
    import pypandoc

    monkeypatch.setenv("PATH", f"{fake_quarto}:{os.environ['PATH']}")
    monkeypatch.setenv("BRIEFING_RENDER_ENGINE", "builtin")
    manifest = real_manifest(out)
    assert manifest["engine"] == "builtin"
    tools = manifest["tools"]
    assert tools["quarto"] is None
    assert tools["pandoc"] == str(pypandoc.get_pandoc_version())
    assert tools["typst"] == importlib.metadata.version("typst")
    assert "rendered by the built-in renderer" in manifest_summary(manifest)


def test_plain_quarto_render_is_recognised_by_its_launcher(out, fake_quarto, monkeypatch):
    """`quarto render` run by hand: no build variable, Quarto not on PATH, but its launcher
    exports QUARTO_BIN_PATH, and that is the `quarto` asked."""
    monkeypatch.delenv("BRIEFING_RENDER_ENGINE", raising=False)
    for name in ("QUARTO_PROJECT_OUTPUT_DIR", "QUARTO_EXECUTE_INFO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUARTO", "0")  # what `make report` would pick no longer decides
    monkeypatch.setenv("QUARTO_BIN_PATH", str(fake_quarto))
    assert render_engine() == "quarto"
    assert real_manifest(out)["tools"]["typst"] == "0.99.2"
    monkeypatch.delenv("QUARTO_BIN_PATH")
    assert render_engine() == "builtin"
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_DIR", "_site")  # Quarto running post-render
    assert render_engine() == "quarto"
    monkeypatch.setenv("BRIEFING_RENDER_ENGINE", "builtin")  # the built-in renderer says so
    assert render_engine() == "builtin"


def test_post_render_script_runs_as_quarto_runs_it(tables, settings, fake_quarto, tmp_path):
    """Quarto runs `scripts/post_render.py` with QUARTO_PYTHON, from the project root, with no
    PYTHONPATH: the script finds `pipeline` itself, and the manifest names Quarto's tools."""
    site = tmp_path / "quarto-site"
    (site / "report").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BRIEFING_RENDER_ENGINE")}
    env.update(
        QUARTO_BIN_PATH=str(fake_quarto),
        QUARTO_PROJECT_OUTPUT_DIR=str(site),
        BRIEFING_PROCESSED_DIR=str(settings.processed_dir),
        BRIEFING_EDITIONS_DIR=str(settings.editions_dir),
    )
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "post_render.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["engine"] == "quarto" and manifest["tools"]["quarto"] == "1.10.18"
    assert manifest["edition_id"] == tables.edition.id
    assert (site / "EDITION").read_text().strip() == tables.edition.id
