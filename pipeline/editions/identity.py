"""An edition's identity: its as-of date plus a hash of the exact inputs and code that built it.

The id is `<as-of>-<hash8>`, where the hash covers the bytes of every input file and of the
code, so the same inputs always give the same id and any change gives a new one. The CLI computes
it once per build and passes it down; no table-building code hashes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings, printable
from pipeline.io import sha256_file

# Code whose change must change the edition id: the package, the report sources, the lock.
CODE_GLOBS = (
    "pipeline/**/*.py",
    "pipeline/**/*.j2",
    "pipeline/**/*.html",
    "pipeline/**/*.typ",
    "report/**/*.qmd",
    "report/**/*.typ",
    "pipeline/**/*.css",
    "_quarto.yml",
    "uv.lock",
    "data/reference/*",
)


def _files_under(root: Path) -> list[Path]:
    """Input files under `root`: not hidden, and named in UTF-8.

    A name with other bytes cannot be written to the manifest (JSON is UTF-8) and the corpus
    rejects such a file unread, so it is not part of the edition either.
    """
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and printable(p) == str(p)
    )


def _market_files(settings: Settings) -> list[Path]:
    """Files of every market folder: the snapshot and the updates after it."""
    return [p for folder in settings.market_dirs for p in _files_under(folder)]


def input_files(settings: Settings) -> list[Path]:
    """Every input file an edition reads: articles (and sidecars) and market files."""
    return sorted(_files_under(settings.articles_dir) + _market_files(settings))


def input_files_by_kind(settings: Settings) -> dict[str, list[Path]]:
    """Input files grouped the way the manifest reports them.

    Lexicons and reference tables shape scores and labels as much as articles shape claims, so
    they belong to an edition's identity too.
    """
    return {
        "articles": _files_under(settings.articles_dir),
        "market": _market_files(settings),
        "lexicons": _files_under(settings.lexicon_dir),
        "reference": _files_under(settings.reference_dir),
    }


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
    """Edition for `as_of` from the inputs and the code as they are on disk now.

    Each input folder is hashed relative to itself, so moving the market snapshot to another
    path does not change the id, but changing one byte in it does. Each market folder (the
    snapshot, then every updates folder, in order) is hashed on its own.
    """
    return Edition(as_of=as_of, inputs_hash=inputs_hash(settings, as_of))


def inputs_hash(settings: Settings, as_of: dt.date) -> str:
    """The hash behind an edition id: the as-of date, every input folder and the code."""
    h = hashlib.sha256()
    h.update(as_of.isoformat().encode())
    h.update(folders_hash(settings).encode())
    return h.hexdigest()


def input_folders(settings: Settings) -> list[tuple[str, Path]]:
    """(kind, folder) for every input folder, in a fixed order."""
    return [
        ("articles", settings.articles_dir),
        *(("market", folder) for folder in settings.market_dirs),
        ("lexicons", settings.lexicon_dir),
        ("reference", settings.reference_dir),
    ]


def folders_hash(settings: Settings) -> str:
    """A hash of every input folder and of the code, without the as-of date.

    The as-of date defaults to the newest article's date, which takes reading the corpus to
    know; this hash does not, so a build can tell "nothing changed" before reading anything.
    """
    h = hashlib.sha256()
    for _kind, folder in input_folders(settings):
        h.update(digest(_files_under(folder), folder).encode())
    h.update(digest(code_files(), PROJECT_ROOT).encode())
    return h.hexdigest()


def market_inputs_hash(settings: Settings) -> str:
    """What the market tables are built from, as one hash: every market folder, the reference
    tables and the code (not the articles, not the as-of date: `pipeline.tables.Reuse`)."""
    h = hashlib.sha256()
    for kind, folder in input_folders(settings):
        if kind in ("market", "reference"):
            h.update(digest(_files_under(folder), folder).encode())
    h.update(digest(code_files(), PROJECT_ROOT).encode())
    return h.hexdigest()
