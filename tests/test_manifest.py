"""Manifest: complete, reproducible byte for byte, and free of secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.archive import verify_outputs
from pipeline.editions.identity import compute_edition, input_files_by_kind
from pipeline.editions.manifest import build_manifest, manifest_summary, write_manifest

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
