"""The manifest: what exactly went into an edition, so a reader can check or rebuild it.

It records hashes and versions only. There is no build time (the as-of date is the only date),
so rebuilding the same edition gives a byte-identical `manifest.json`, and no environment
variable value is ever read into it, so SMTP or other secrets cannot leak here.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

from pipeline.editions.archive import MANIFEST_NAME, SITE_ARCHIVE_DIR
from pipeline.editions.identity import Edition
from pipeline.io import sha256_file, write_json_atomic

SCHEMA_VERSION = 1
INPUT_KINDS = ("articles", "market", "lexicons", "reference")


def _run(args: list[str], cwd: Path) -> str | None:
    """Output of a helper command, or None if it is missing or fails (no git, no quarto)."""
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(
            args, cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(project_root: Path) -> dict:
    """Commit and dirty flag; both null outside a git checkout or without git."""
    commit = _run(["git", "rev-parse", "HEAD"], project_root)
    if commit is None:
        return {"commit": None, "dirty": None}
    status = _run(["git", "status", "--porcelain"], project_root)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _pandoc_version() -> str | None:
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_version())
    except (ImportError, OSError, RuntimeError):
        return None


def tool_versions() -> dict[str, str | None]:
    """Versions of everything that renders numbers, charts or pages; null when absent."""
    quarto = _run(["quarto", "--version"], Path.cwd())
    return {
        "python": platform.python_version(),
        "polars": _dist_version("polars"),
        "altair": _dist_version("altair"),
        "vl-convert": _dist_version("vl-convert-python"),
        "pandoc": _pandoc_version(),
        "typst": _dist_version("typst"),
        "quarto": quarto.splitlines()[0] if quarto else None,
    }


def _rel(path: Path, root: Path) -> str:
    """Path as recorded: relative to the project (inputs beside it get `../`), POSIX style."""
    return Path(os.path.relpath(Path(path).resolve(), root.resolve())).as_posix()


def output_hashes(output_dir: Path, *, exclude: tuple[str, ...] = (SITE_ARCHIVE_DIR,)) -> dict:
    """SHA-256 of every file under `output_dir` except the manifest and the copied archive."""
    out: dict[str, str] = {}
    if not output_dir.is_dir():
        return out
    for path in sorted(output_dir.rglob("*")):
        rel = path.relative_to(output_dir).as_posix()
        if not path.is_file() or rel == MANIFEST_NAME or rel.split("/")[0] in exclude:
            continue
        out[rel] = sha256_file(path)
    return out


def build_manifest(
    edition: Edition,
    input_files: dict[str, list[Path]],
    output_dir: Path,
    project_root: Path,
    *,
    include_outputs: bool = True,
) -> dict:
    """The manifest of one edition.

    `input_files` maps a kind (articles, market, lexicons, reference) to its files. Call with
    `include_outputs=False` before rendering to get the summary for the footer and colophon,
    then again at the end, after every output exists, for the file that is written.
    """
    project_root = Path(project_root)
    lock = project_root / "uv.lock"
    inputs = {
        kind: {_rel(p, project_root): sha256_file(Path(p)) for p in files}
        for kind, files in input_files.items()
    }
    for kind in INPUT_KINDS:
        inputs.setdefault(kind, {})
    return {
        "schema_version": SCHEMA_VERSION,
        "edition_id": edition.id,
        "as_of": edition.as_of.isoformat(),
        "inputs_hash": edition.inputs_hash,
        "git": git_state(project_root),
        "uv_lock_sha256": sha256_file(lock) if lock.is_file() else None,
        "inputs": inputs,
        "outputs": output_hashes(Path(output_dir)) if include_outputs else {},
        "tools": tool_versions(),
    }


def write_manifest(manifest: dict, path: Path) -> None:
    """Write sorted, indented JSON atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifest, path)


def manifest_summary(manifest: dict) -> str:
    """One line for the site footer and the PDF colophon."""
    git = manifest.get("git") or {}
    commit = git.get("commit")
    code = f"commit {commit[:10]}" if commit else "commit unknown"
    if git.get("dirty"):
        code += " (uncommitted changes)"
    lock = manifest.get("uv_lock_sha256")
    tools = manifest.get("tools") or {}
    names = {
        "python": "Python",
        "polars": "Polars",
        "altair": "Altair",
        "vl-convert": "vl-convert",
        "pandoc": "pandoc",
        "typst": "Typst",
        "quarto": "Quarto",
    }
    versions = ", ".join(f"{label} {tools[key]}" for key, label in names.items() if tools.get(key))
    n_inputs = sum(len(files) for files in (manifest.get("inputs") or {}).values())
    parts = [
        f"Edition {manifest.get('edition_id')}",
        f"as of {manifest.get('as_of')}",
        code,
        f"uv.lock {lock[:12]}" if lock else "no uv.lock",
        f"{n_inputs} input files hashed",
        versions,
    ]
    return " · ".join(p for p in parts if p)


__all__ = [
    "build_manifest",
    "write_manifest",
    "manifest_summary",
    "tool_versions",
    "git_state",
    "output_hashes",
]
