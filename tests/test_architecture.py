"""The layout is the DAG: stage packages import only down it, and a reversed import fails.

The contract itself lives in pyproject.toml (`[tool.importlinter]`), so `lint-imports` run by
hand and this test check the same thing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_stage_packages_import_only_down_the_dag() -> None:
    done = run_lint_imports(PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_pointing_back_up_the_dag_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "pipeline", tmp_path / "pipeline")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # The market stage reaching up into the briefing views, inside a function as real
    # lazy imports are written: the contract must still see it.
    with (tmp_path / "pipeline" / "market" / "returns.py").open("a") as fh:
        fh.write("\n\ndef _up():\n    from pipeline.briefing import charts  # noqa: F401\n")
    done = run_lint_imports(tmp_path)
    assert done.returncode != 0
    assert "pipeline.market.returns -> pipeline.briefing.charts" in done.stdout


def test_every_module_sits_in_a_layer_of_the_contract() -> None:
    """A new top-level module or stage must be placed in the DAG, not left outside it."""
    text = (PROJECT_ROOT / "pyproject.toml").read_text()
    layers = text.split("layers = [", 1)[1].split("]", 1)[0]
    named = {part.strip().strip('",()') for part in layers.replace("|", "\n").splitlines()}
    pkg = PROJECT_ROOT / "pipeline"
    tops = {f"pipeline.{p.stem}" for p in pkg.glob("*.py") if p.stem != "__init__"}
    tops |= {f"pipeline.{p.name}" for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    assert tops - named == set()
