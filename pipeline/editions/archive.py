"""Editions: an edition is its as-of date plus the exact inputs and code that built it.

The id is `<as-of>-<hash8>`, where the hash covers the bytes of every input file and of the
code, so the same inputs always give the same id and any change gives a new one.

Published editions live in `editions/<id>/`, a frozen copy of the built site. They are never
rewritten: a correction is a new edition whose `edition.json` names the edition it corrects, so
what stakeholders were sent stays readable exactly as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipeline.config import ensure_inside
from pipeline.errors import InputError
from pipeline.io import json_text, sha256_file, write_json_atomic

EDITION_ID = re.compile(r"^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$")
MANIFEST_NAME = "manifest.json"
EDITION_META = "edition.json"
CORRECTIONS_NAME = "corrections.json"
# A site may carry the archive (so permalinks work when deployed); never freeze it recursively.
SITE_ARCHIVE_DIR = "editions"


# --------------------------------------------------------------------------- publishing


def read_json(path: Path, what: str, fix: str) -> dict | list:
    """Read a JSON file the pipeline wrote, turning absence or damage into an `InputError`."""
    if not path.is_file():
        raise InputError(f"{what} not found", path, fix=fix)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{what} is not valid JSON ({exc})", path, line=getattr(exc, "lineno", None), fix=fix
        ) from None


def site_manifest(site_dir: Path) -> dict:
    """The built site's manifest, with its edition id checked: the id names files and folders
    (the archive, the edition-named PDF, the email outbox), so only the id form is accepted."""
    manifest = read_json(
        site_dir / MANIFEST_NAME,
        "the built site's manifest",
        fix="build the edition first: make report",
    )
    edition_id = manifest.get("edition_id") if isinstance(manifest, dict) else None
    if not isinstance(edition_id, str) or not EDITION_ID.match(edition_id):
        raise InputError(
            f"manifest edition_id {str(edition_id)[:40]!r} is not an edition id",
            site_dir / MANIFEST_NAME,
            fix="rebuild the edition: make report",
        )
    return manifest


def verify_outputs(manifest: dict, site_dir: Path) -> list[str]:
    """Files whose bytes differ from what the manifest recorded (missing, changed or extra).

    Publishing checks this so the archive holds exactly what the build produced.
    """
    recorded: dict[str, str] = manifest.get("outputs", {})
    problems = []
    present = {}
    for path in site_dir.rglob("*"):
        rel = path.relative_to(site_dir).as_posix()
        if path.is_file() and rel != MANIFEST_NAME and not rel.startswith(f"{SITE_ARCHIVE_DIR}/"):
            present[rel] = path
    for name, sha in sorted(recorded.items()):
        if name not in present:
            problems.append(f"missing: {name}")
        elif sha256_file(present[name]) != sha:
            problems.append(f"changed: {name}")
    problems.extend(f"not in manifest: {name}" for name in sorted(set(present) - set(recorded)))
    return problems


def _edition_meta(editions_dir: Path) -> list[dict]:
    metas = []
    if not editions_dir.is_dir():
        return metas
    for d in sorted(editions_dir.iterdir()):
        if not d.is_dir() or not EDITION_ID.match(d.name):
            continue
        meta_path = d / EDITION_META
        meta = (
            read_json(meta_path, "edition record", fix="restore it from git")
            if meta_path.exists()
            else {}
        )
        manifest_path = d / MANIFEST_NAME
        manifest = (
            read_json(manifest_path, "edition manifest", fix="restore it from git")
            if manifest_path.exists()
            else {}
        )
        metas.append({"dir": d, "meta": meta, "manifest": manifest})
    return metas


def publish(
    site_dir: Path,
    editions_dir: Path,
    *,
    corrects: str | None = None,
    note: str | None = None,
    verify: bool = True,
) -> Path:
    """Freeze the built site into `editions/<edition_id>/` and return that folder.

    Never overwrites: an edition id is a hash of inputs and code, so an existing folder means
    this exact edition is already archived. A correction (changed inputs or code, hence a new
    id) passes `corrects=<old id>`; the old edition is left untouched and the link is kept in
    the new edition's `edition.json` and the derived `corrections.json`.
    """
    site_dir, editions_dir = Path(site_dir), Path(editions_dir)
    manifest = site_manifest(site_dir)
    edition_id = manifest["edition_id"]
    if verify:
        _check_outputs(manifest, site_dir)
    editions_dir.mkdir(parents=True, exist_ok=True)
    with _lock(editions_dir):
        _clear_stale_publishes(editions_dir)
        target = edition_path(editions_dir, edition_id)
        if target.exists():
            raise InputError(
                f"edition {edition_id} is already published",
                target,
                fix="published editions are never overwritten; to correct it, change the inputs "
                f"or code, rebuild (the id changes) and publish with CORRECTS={edition_id}",
            )
        existing = _edition_meta(editions_dir)
        if corrects is not None:
            _check_corrects(corrects, edition_id, editions_dir, existing)
        meta = {
            "edition_id": edition_id,
            "as_of": manifest.get("as_of"),
            "corrects": corrects,
            "note": note,
            "sequence": 1 + max((m["meta"].get("sequence", 0) for m in existing), default=0),
        }
        _freeze(site_dir, target, meta)
        write_json_atomic(_corrections_records(editions_dir), editions_dir / CORRECTIONS_NAME)
    return target


def _check_outputs(manifest: dict, site_dir: Path) -> None:
    problems = verify_outputs(manifest, site_dir)
    if problems:
        shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
        raise InputError(
            f"the site does not match its manifest ({shown})",
            site_dir,
            fix="rebuild with make report, then publish without editing _site/",
        )


def _check_corrects(corrects: str, edition_id: str, editions_dir: Path, existing: list) -> None:
    """A correction names an edition that is published and is not this one."""
    if (
        corrects == edition_id
        or not EDITION_ID.match(corrects)
        or not edition_path(editions_dir, corrects).is_dir()
    ):
        known = ", ".join(m["dir"].name for m in existing) or "none"
        raise InputError(
            f"cannot correct {corrects!r}: no such published edition",
            editions_dir,
            fix=f"use one of the published ids: {known}",
        )


def _freeze(site_dir: Path, target: Path, meta: dict) -> None:
    """Copy the site beside `target`, add its `edition.json`, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta['edition_id']}.tmp-", dir=target.parent))
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it private; the archive is served too
    try:
        shutil.copytree(
            site_dir,
            tmp,
            dirs_exist_ok=True,
            ignore=lambda d, names: (
                [SITE_ARCHIVE_DIR] if Path(d) == site_dir and SITE_ARCHIVE_DIR in names else []
            ),
        )
        write_json_atomic(meta, tmp / EDITION_META)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def edition_path(editions_dir: Path, edition_id: str) -> Path:
    """`editions/<id>/` for an id read from a manifest or the command line, checked first.

    Ids reach file names, so only the `<as-of>-<hash8>` form is accepted: `../x` or `/etc`
    can never turn a publish or a correction into a write or a read outside the archive.
    """
    if not isinstance(edition_id, str) or not EDITION_ID.match(edition_id):
        raise InputError(
            f"{edition_id!r} is not an edition id (YYYY-MM-DD-xxxxxxxx)",
            editions_dir,
            fix="use an id as listed in editions/, e.g. 2025-11-14-dca69c9c",
        )
    return ensure_inside(Path(editions_dir) / edition_id, editions_dir, "edition folder")


def _clear_stale_publishes(editions_dir: Path) -> None:
    """Remove what a publisher killed mid-way left: its hidden copy and temporary JSON.

    Runs under the archive lock, so no live publisher owns them. The derived corrections log
    is rewritten too, in case the kill came between the rename and its update.
    """
    for p in editions_dir.iterdir():
        if p.is_dir() and re.match(r"^\.\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.tmp-", p.name):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() and p.name.startswith(f".{CORRECTIONS_NAME}."):
            p.unlink(missing_ok=True)
    if any(EDITION_ID.match(p.name) for p in editions_dir.iterdir()):
        records = _corrections_records(editions_dir)
        path = editions_dir / CORRECTIONS_NAME
        current = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        if current != json_text(records):
            write_json_atomic(records, path)


@contextlib.contextmanager
def _lock(editions_dir: Path) -> Iterator[None]:
    """Serialise publishers so two runs cannot take the same sequence number.

    The lock is taken on the folder itself, so no lock file lands in the committed archive.
    """
    fd = os.open(editions_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _table_height(path: Path) -> int | None:
    return pl.scan_parquet(path).select(pl.len()).collect().item() if path.is_file() else None


def _pdf_name(edition_id: str) -> str:
    return f"alibaba-briefing-{edition_id}.pdf"


EDITION_SCHEMA = {
    "edition_id": pl.String,
    "as_of": pl.Date,
    "sequence": pl.Int64,
    "permalink": pl.String,
    "pdf": pl.String,
    "corrects": pl.String,
    "corrected_by": pl.String,
    "note": pl.String,
    "n_articles": pl.Int64,
    "n_claims": pl.Int64,
    "git_commit": pl.String,
    "git_dirty": pl.Boolean,
}


def list_editions(editions_dir: Path) -> pl.DataFrame:
    """Every published edition, newest first (as-of date, then publication order).

    `permalink` and `pdf` are relative to the site root (`editions/<id>/...`), so the same
    table renders links that work from `file://` and from any host. `n_articles`/`n_claims`
    are null when the edition carries no tables.
    """
    rows = []
    for m in _edition_meta(Path(editions_dir)):
        d, meta, manifest = m["dir"], m["meta"], m["manifest"]
        eid = d.name
        pdf = d / _pdf_name(eid)
        as_of = meta.get("as_of") or manifest.get("as_of") or eid[:10]
        git = manifest.get("git") or {}
        rows.append(
            {
                "edition_id": eid,
                "as_of": dt.date.fromisoformat(as_of),
                "sequence": meta.get("sequence", 0),
                "permalink": f"{SITE_ARCHIVE_DIR}/{eid}/",
                "pdf": f"{SITE_ARCHIVE_DIR}/{eid}/{pdf.name}" if pdf.is_file() else None,
                "corrects": meta.get("corrects"),
                "corrected_by": None,
                "note": meta.get("note"),
                "n_articles": _table_height(d / "data" / "articles.parquet"),
                "n_claims": _table_height(d / "data" / "claims.parquet"),
                "git_commit": git.get("commit"),
                "git_dirty": git.get("dirty"),
            }
        )
    df = pl.DataFrame(rows, schema=EDITION_SCHEMA)
    fixes = (
        df.filter(pl.col("corrects").is_not_null())
        .group_by("corrects")
        .agg(pl.col("edition_id").sort().str.join(", "))
        .rename({"corrects": "edition_id", "edition_id": "by"})
    )
    return (
        df.join(fixes, on="edition_id", how="left")
        .with_columns(corrected_by=pl.col("by"))
        .drop("by")
        .sort(["as_of", "sequence", "edition_id"], descending=True)
    )


def _corrections_records(editions_dir: Path) -> list[dict]:
    return (
        corrections_log(editions_dir)
        .with_columns(pl.col("as_of", "corrects_as_of").dt.to_string("%Y-%m-%d"))
        .to_dicts()
    )


def corrections_log(editions_dir: Path) -> pl.DataFrame:
    """Each correction: the new edition, the one it corrects, both as-of dates and the note."""
    eds = list_editions(editions_dir)
    return (
        eds.filter(pl.col("corrects").is_not_null())
        .join(eds.select(corrects="edition_id", corrects_as_of="as_of"), on="corrects", how="left")
        .select("edition_id", "as_of", "corrects", "corrects_as_of", "note", "sequence")
    )
