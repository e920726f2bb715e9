"""Editions: an edition is its as-of date plus the exact inputs and code that built it.

The id is `<as-of>-<hash8>`, where the hash covers the bytes of every input file and of the
code, so the same inputs always give the same id and any change gives a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings

# Code whose change must change the edition id: the package, the report sources, the lock.
CODE_GLOBS = (
    "pipeline/**/*.py",
    "pipeline/**/*.j2",
    "pipeline/**/*.html",
    "pipeline/**/*.typ",
    "report/**/*.qmd",
    "_quarto.yml",
    "uv.lock",
    "data/reference/*",
)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large inputs stay cheap on memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_files(settings: Settings) -> list[Path]:
    """Every input file an edition reads: articles (and sidecars) and market files."""
    files: list[Path] = []
    for root in (settings.articles_dir, settings.market_dir):
        if root.is_dir():
            files.extend(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    return sorted(files)


def code_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The code and reference files that shape an edition's output."""
    found: set[Path] = set()
    for pattern in CODE_GLOBS:
        found.update(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return sorted(found)


def digest(files: Iterable[Path], root: Path) -> str:
    """A hash over (name, content hash) pairs, stable across machines and checkouts."""
    h = hashlib.sha256()
    for path in sorted(files):
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.name
        h.update(name.encode())
        h.update(b"\0")
        h.update(sha256_file(path).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass(frozen=True)
class Edition:
    """The identity of one build: its cut-off date and a short hash of what went into it."""

    as_of: dt.date
    inputs_hash: str

    @property
    def id(self) -> str:
        return f"{self.as_of.isoformat()}-{self.inputs_hash[:8]}"


def compute_edition(settings: Settings, as_of: dt.date) -> Edition:
    """Edition for `as_of` from the inputs and the code as they are on disk now."""
    h = hashlib.sha256()
    h.update(as_of.isoformat().encode())
    for root, files in ((settings.articles_dir, None), (settings.market_dir, None)):
        chosen = files or [p for p in input_files(settings) if root in p.parents]
        h.update(digest(chosen, root).encode())
    h.update(digest(code_files(), PROJECT_ROOT).encode())
    return Edition(as_of=as_of, inputs_hash=h.hexdigest())
