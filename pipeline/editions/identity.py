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


def input_files(settings: Settings) -> list[Path]:
    """Every input file an edition reads: articles (and sidecars) and market files."""
    return sorted(_files_under(settings.articles_dir) + _files_under(settings.market_dir))


def input_files_by_kind(settings: Settings) -> dict[str, list[Path]]:
    """Input files grouped the way the manifest reports them.

    Lexicons and reference tables shape scores and labels as much as articles shape claims, so
    they belong to an edition's identity too.
    """
    return {
        "articles": _files_under(settings.articles_dir),
        "market": _files_under(settings.market_dir),
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

    Each kind of input is hashed relative to its own folder, so moving the market snapshot to
    another path does not change the id, but changing one byte in it does.
    """
    roots = {
        "articles": settings.articles_dir,
        "market": settings.market_dir,
        "lexicons": settings.lexicon_dir,
        "reference": settings.reference_dir,
    }
    h = hashlib.sha256()
    h.update(as_of.isoformat().encode())
    for kind, files in input_files_by_kind(settings).items():
        h.update(digest(files, roots[kind]).encode())
    h.update(digest(code_files(), PROJECT_ROOT).encode())
    return Edition(as_of=as_of, inputs_hash=h.hexdigest())
