"""The built-in renderer's execution cache: re-run only the cells whose inputs changed.

Quarto's `freeze: auto` re-executes a page when its source changes and otherwise reuses the
outputs kept in `_freeze/`. Here the data changes every week while the pages do not, so the
cache is keyed finer. Each page and format keeps, per cell, its outputs and what it read,
as noted by `pipeline.briefing.sections` (a table, an edition field, a docs file, the editions
archive, the inputs); a probe run after every cell collects those notes and whether the cell
changed any global name of the kernel (a "setup" cell, such as the import) or not ("pure"),
and whether the names it bound hold data or only modules, classes and functions.

On the next render of the same page source and code:
- every cell's reads unchanged: the outputs are reused and no kernel is started;
- otherwise a kernel runs the setup cells (they rebuild the state later cells use) and the
  cells whose reads changed; pure cells with unchanged reads keep their outputs. A setup cell
  that binds data and whose reads changed invalidates every cell after it (an import does
  not: a module carries no data of the edition).
What a cell reads without going through `sections` (a global set by an earlier pure cell, a
file opened by hand) is not seen, so cells must keep to `sections` (docs/rendering.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.io import sha256_file, write_json_atomic

PROBE_MARK = "\x1ebriefing-probe "
PROBE_CODE = "__import__('pipeline.render.probe', fromlist=['probe']).probe(globals())"
CACHE_VERSION = 2


@dataclass(frozen=True)
class Cache:
    """Where the cache lives and the settings the cells see (their tables, editions, URL)."""

    folder: Path
    settings: Settings


@dataclass(frozen=True)
class CellPlan:
    reuse: list[bool]  # per cell: take the cached outputs
    run: list[int]  # cells to execute, in order


def page_key(source: bytes, fmt: str, settings: Settings) -> str:
    """The page source, the format, the code and the settings the cells see."""
    from pipeline.editions.identity import code_files, digest

    h = hashlib.sha256()
    for part in (
        str(CACHE_VERSION),
        fmt,
        hashlib.sha256(source).hexdigest(),
        digest(code_files(), PROJECT_ROOT),
        str(settings.processed_dir),
        settings.site_url,
    ):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def resolver(settings: Settings) -> Callable[[str], str | None]:
    """The current value of a noted read, e.g. "table:claims" -> the table file's hash."""
    from pipeline.briefing.site_paths import CHART_DATA_DIR, DOCS
    from pipeline.editions.identity import folders_hash
    from pipeline.editions.manifest import git_state
    from pipeline.render.freshness import _stat_digest

    processed = settings.processed_dir
    edition = _json(processed / "edition.json") or {}

    def file_hash(path: Path) -> str | None:
        return sha256_file(path) if path.is_file() else None

    known: dict[str, str | None] = {}  # a resolver lives for one plan or save: files hold still

    def resolve(read: str) -> str | None:
        if read not in known:
            known[read] = current(read)
        return known[read]

    def current(read: str) -> str | None:
        kind, _, name = read.partition(":")
        if kind == "table":
            return file_hash(processed / f"{name}.parquet")
        if kind == "edition":
            return json.dumps(edition.get(name))
        if kind == "doc":
            return file_hash(DOCS / name)
        if kind == "chart-data":
            return file_hash(processed / CHART_DATA_DIR.relative_to("data") / f"{name}.csv")
        if kind == "editions":
            return _stat_digest(settings.editions_dir)
        if kind == "inputs":
            return folders_hash(settings) + json.dumps(git_state(PROJECT_ROOT))
        return None  # unknown: never equal, so the cell always runs

    return resolve


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def cache_file(cache: Path, page: str, fmt: str) -> Path:
    return cache / f"{page.replace('/', '__')}.{fmt}.json"


def load(cache: Path, page: str, fmt: str, key: str, n_cells: int) -> list[dict] | None:
    entry = _json(cache_file(cache, page, fmt))
    if not entry or entry.get("key") != key or len(entry.get("cells", [])) != n_cells:
        return None
    return entry["cells"]


def plan(cells: list[dict] | None, n_cells: int, resolve: Callable[[str], str | None]) -> CellPlan:
    """Which cells keep their cached outputs and which run (see the module docstring)."""
    if cells is None:
        return CellPlan([False] * n_cells, list(range(n_cells)))
    valid, broken = [], False
    for cell in cells:
        ok = not broken and all(resolve(k) == v for k, v in cell["reads"].items())
        valid.append(ok)
        if not ok and cell.get("binds_data", True):
            broken = True  # the data later cells see may differ
    if all(valid):
        return CellPlan([True] * n_cells, [])
    run = [i for i, cell in enumerate(cells) if not valid[i] or not cell["pure"]]
    return CellPlan([i not in run for i in range(n_cells)], run)


def probe_result(outputs: list[dict]) -> dict:
    """The probe cell's report (pure, reads), from its stdout."""
    for out in outputs:
        text = out.get("text", "")
        if out.get("output_type") == "stream" and PROBE_MARK in text:
            return json.loads(text.split(PROBE_MARK, 1)[1].splitlines()[0])
    return {"pure": False, "binds_data": True, "reads": ["unknown"]}  # no report: always run


def save(
    cache: Path,
    page: str,
    fmt: str,
    key: str,
    cells: list[dict],
    resolve: Callable[[str], str | None],
) -> None:
    """Keep each cell's outputs, whether it is pure, and the current value of each read."""
    stored = [
        {
            "outputs": c["outputs"],
            "pure": c["pure"],
            "binds_data": c.get("binds_data", True),
            "reads": {r: resolve(r) for r in c["reads"]},
        }
        for c in cells
    ]
    write_json_atomic({"key": key, "cells": stored}, cache_file(cache, page, fmt))
