"""The manifest: what exactly went into an edition, so a reader can check or rebuild it.

It records hashes and versions only. There is no build time (the as-of date is the only date),
so rebuilding the same edition gives a byte-identical `manifest.json`, and no environment
variable value is ever read into it, so SMTP or other secrets cannot leak here (the engine's
name is read from one, but only "builtin" or "quarto" is ever recorded).

The tools are those of the engine that rendered the edition: under Quarto the PDF is made by
Quarto's own pandoc and Typst, so their versions are asked from `quarto`, not from `.venv`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

from pipeline.editions.archive import MANIFEST_NAME, SITE_ARCHIVE_DIR
from pipeline.editions.identity import Edition
from pipeline.io import sha256_file, write_json_atomic

SCHEMA_VERSION = 2  # 2: `engine`, and tool versions from that engine
INPUT_KINDS = ("articles", "market", "lexicons", "reference")
ENGINES = ("builtin", "quarto")
ENGINE_VARIABLE = "BRIEFING_RENDER_ENGINE"  # set by `python -m pipeline report`/`render`
QUARTO_SETS = ("QUARTO_BIN_PATH", "QUARTO_PROJECT_OUTPUT_DIR", "QUARTO_EXECUTE_INFO")


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


def render_engine() -> str:
    """The engine rendering this edition: the one the build named, else Quarto when Quarto
    started this process (a plain `quarto render`: its launcher exports QUARTO_BIN_PATH, and it
    sets QUARTO_PROJECT_OUTPUT_DIR for post-render and QUARTO_EXECUTE_INFO for cells; the
    built-in renderer sets those two as well, but always names itself), else what
    `make report` would pick (Quarto when on PATH unless QUARTO=0)."""
    named = os.environ.get(ENGINE_VARIABLE, "").strip().lower()
    if named in ENGINES:
        return named
    if any(os.environ.get(v) for v in QUARTO_SETS):
        return "quarto"
    if os.environ.get("QUARTO", "").strip().lower() in ("0", "builtin", "no", "false"):
        return "builtin"
    return "quarto" if quarto_command() else "builtin"


def quarto_command() -> str | None:
    """The `quarto` that runs (the launcher's own folder first), or None when there is none."""
    folder = os.environ.get("QUARTO_BIN_PATH")
    if folder and (Path(folder) / "quarto").is_file():
        return str(Path(folder) / "quarto")
    return shutil.which("quarto")


def _first_version(text: str | None) -> str | None:
    """ "pandoc 3.9" or "typst 0.15.1 (abc)" -> the version; a bare "1.10.18" stays as it is."""
    if not text:
        return None
    words = text.splitlines()[0].split()
    numbered = [w for w in words if w[:1].isdigit()]
    return numbered[0] if numbered else words[0] if words else None


@functools.cache
def _quarto_versions(quarto: str) -> dict[str, str | None]:
    here = Path.cwd()
    return {
        "quarto": _first_version(_run([quarto, "--version"], here)),
        "pandoc": _first_version(_run([quarto, "pandoc", "--version"], here)),
        "typst": _first_version(_run([quarto, "typst", "--version"], here)),
    }


def tool_versions(engine: str | None = None) -> dict[str, str | None]:
    """Versions of everything that renders numbers, charts or pages; null when absent.

    pandoc and Typst are the engine's: `.venv`'s for the built-in renderer, Quarto's bundled
    ones (`quarto pandoc --version`, `quarto typst --version`) when Quarto renders.
    """
    engine = engine or render_engine()
    versions = {
        "python": platform.python_version(),
        "polars": _dist_version("polars"),
        "altair": _dist_version("altair"),
        "vl-convert": _dist_version("vl-convert-python"),
        "pandoc": _pandoc_version(),
        "typst": _dist_version("typst"),
        "quarto": None,
    }
    if engine == "quarto":
        quarto = quarto_command()
        versions.update(
            _quarto_versions(quarto) if quarto else dict.fromkeys(("quarto", "pandoc", "typst"))
        )
    return versions


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
    engine: str | None = None,
) -> dict:
    """The manifest of one edition.

    `input_files` maps a kind (articles, market, lexicons, reference) to its files. Call with
    `include_outputs=False` before rendering to get the summary for the footer and colophon,
    then again at the end, after every output exists, for the file that is written.
    `engine` defaults to the one rendering now (`render_engine()`).
    """
    engine = engine or render_engine()
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
        "engine": engine,
        "tools": tool_versions(engine),
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
    engine = {"quarto": "rendered by Quarto", "builtin": "rendered by the built-in renderer"}
    parts = [
        f"Edition {manifest.get('edition_id')}",
        f"as of {manifest.get('as_of')}",
        code,
        f"uv.lock {lock[:12]}" if lock else "no uv.lock",
        f"{n_inputs} input files hashed",
        engine.get(manifest.get("engine") or "", ""),
        versions,
    ]
    return " · ".join(p for p in parts if p)


__all__ = [
    "build_manifest",
    "write_manifest",
    "manifest_summary",
    "tool_versions",
    "render_engine",
    "git_state",
    "output_hashes",
]
