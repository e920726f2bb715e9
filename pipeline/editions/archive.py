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
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.config import PROJECT_ROOT, Settings, ensure_inside, printable
from pipeline.errors import InputError

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

EDITION_ID = re.compile(r"^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$")
MANIFEST_NAME = "manifest.json"
EDITION_META = "edition.json"
CORRECTIONS_NAME = "corrections.json"
# A site may carry the archive (so permalinks work when deployed); never freeze it recursively.
SITE_ARCHIVE_DIR = "editions"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large inputs stay cheap on memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


# --------------------------------------------------------------------------- atomic site output


def swap_in(build_dir: Path, site_dir: Path) -> None:
    """Replace `site_dir` by the finished `build_dir` so readers never see a half-built site.

    The old site is renamed to a backup, the new one renamed in, then the backup deleted; if
    the second rename fails the backup is put back. Both folders must be on one filesystem
    (build next to the site, e.g. with `staged_build`) so the renames are atomic.
    """
    build_dir, site_dir = Path(build_dir), Path(site_dir)
    if not build_dir.is_dir():
        raise InputError(
            "build folder not found", build_dir, fix="build the site into a temporary folder first"
        )
    # Ctrl-C or SIGTERM between the two renames would leave no site at all; hold them until the
    # swap is done (they are delivered right after). A SIGKILL there is undone by `recover_site`.
    with _signals_held():
        _swap(build_dir, site_dir)


def _backup_name(site_dir: Path) -> str:
    return f".{site_dir.name}.old-"


def _swap(build_dir: Path, site_dir: Path) -> None:
    backup = None
    if site_dir.exists():
        backup = site_dir.with_name(f"{_backup_name(site_dir)}{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.rename(site_dir, backup)
    try:
        os.rename(build_dir, site_dir)
    except OSError:
        if backup is not None:
            os.rename(backup, site_dir)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def recover_site(site_dir: Path) -> None:
    """Undo a swap cut short by SIGKILL: put the backup back if the site is gone, else drop it.

    Call it only when no other build can be swapping (the build lock is held).
    """
    site_dir = Path(site_dir)
    if not site_dir.parent.is_dir():
        return
    backups = sorted(
        (p for p in site_dir.parent.glob(f"{_backup_name(site_dir)}*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    if backups and not site_dir.exists():
        os.rename(backups.pop(), site_dir)
    for stale in backups:
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_build(site_dir: Path) -> Iterator[Path]:
    """Yield an empty folder beside `site_dir`; swap it in only if the block finishes.

    If the block raises, the temporary folder is removed and the previous site stays as it was.
    """
    site_dir = Path(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.build-", dir=site_dir.parent))
    try:
        yield build_dir
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    swap_in(build_dir, site_dir)


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


def _json_text(data: object) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json_atomic(data: object, path: Path) -> None:
    text = _json_text(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        problems = verify_outputs(manifest, site_dir)
        if problems:
            shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
            raise InputError(
                f"the site does not match its manifest ({shown})",
                site_dir,
                fix="rebuild with make report, then publish without editing _site/",
            )
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
        sequence = 1 + max((m["meta"].get("sequence", 0) for m in existing), default=0)
        tmp = Path(tempfile.mkdtemp(prefix=f".{edition_id}.tmp-", dir=editions_dir))
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
            meta = {
                "edition_id": edition_id,
                "as_of": manifest.get("as_of"),
                "corrects": corrects,
                "note": note,
                "sequence": sequence,
            }
            write_json_atomic(meta, tmp / EDITION_META)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        write_json_atomic(_corrections_records(editions_dir), editions_dir / CORRECTIONS_NAME)
    return target


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
        if current != _json_text(records):
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


def feed_xml(editions: pl.DataFrame, site_url: str) -> str:
    """Atom feed of editions (as from `list_editions`), one entry per edition.

    Entry dates are the as-of dates, not wall-clock time, so the feed rebuilds byte-identically.
    """
    atom = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", atom)
    base = site_url.rstrip("/") + "/"

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{atom}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    def stamp(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00:00Z"

    feed = ET.Element(f"{{{atom}}}feed")
    sub(feed, "title", "Alibaba risk briefing: editions")
    sub(feed, "id", base + "editions.xml")
    sub(feed, "link", href=base, rel="alternate")
    sub(feed, "link", href=base + "editions.xml", rel="self")
    newest = editions["as_of"].max() if editions.height else None
    sub(feed, "updated", stamp(newest) if newest else "1970-01-01T00:00:00Z")
    author = sub(feed, "author")
    sub(author, "name", "Briefing desk")
    for row in editions.iter_rows(named=True):  # one entry per edition: tiny, not a hot path
        entry = sub(feed, "entry")
        title = f"Edition {row['edition_id']} (as of {row['as_of'].isoformat()})"
        if row.get("corrects"):
            title += f", correcting {row['corrects']}"
        sub(entry, "title", title)
        sub(entry, "id", base + row["permalink"])
        sub(entry, "updated", stamp(row["as_of"]))
        sub(entry, "link", href=base + row["permalink"], rel="alternate", type="text/html")
        if row.get("pdf"):
            sub(entry, "link", href=base + row["pdf"], rel="enclosure", type="application/pdf")
        summary = f"Briefing edition as of {row['as_of'].isoformat()}."
        if row.get("corrects"):
            summary += f" Corrects edition {row['corrects']}."
            if row.get("note"):
                summary += f" {row['note']}"
        sub(entry, "summary", summary)
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- what changed

ARTICLE_COLS = ["article_id", "title", "published_date", "source", "language"]
CLAIM_KEY = ["article_id", "sentence_idx", "quote", "kind", "instrument", "claim_date"]


@dataclass
class Changes:
    """What changed between two editions; every frame is empty when nothing did.

    `notes` says what could not be compared (e.g. an old edition without `claims.parquet`)
    instead of silently reporting "no change".
    """

    previous_id: str | None
    current_id: str
    new_articles: pl.DataFrame
    removed_articles: pl.DataFrame
    key_numbers: pl.DataFrame  # name, unit, previous, current, delta, status (new|moved|removed)
    verdicts: pl.DataFrame  # claim key, value, previous_verdict, verdict, status (new|changed)
    inputs: pl.DataFrame  # kind, path, status (added|removed|changed)
    code_changed: bool | None
    notes: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """Short sentences for the Editions page; counts come from the frames above."""
        if self.previous_id is None:
            return ["First published edition."] + self.notes
        lines = [f"Compared with edition {self.previous_id}:"]
        for frame, what in (
            (self.new_articles, "new article(s)"),
            (self.removed_articles, "article(s) no longer included"),
        ):
            if frame.height:
                lines.append(
                    f"{frame.height} {what}: "
                    + "; ".join(
                        frame["title"].cast(pl.String).fill_null(frame["article_id"]).to_list()
                    )
                )
        for status, what in (
            ("moved", "key number(s) moved"),
            ("new", "new key number(s)"),
            ("removed", "key number(s) dropped"),
        ):
            sub = self.key_numbers.filter(pl.col("status") == status)
            if sub.height:
                lines.append(f"{sub.height} {what}: " + ", ".join(sub["name"].to_list()))
        for status, what in (
            ("new", "new claim verdict(s)"),
            ("changed", "changed claim verdict(s)"),
        ):
            n = self.verdicts.filter(pl.col("status") == status).height
            if n:
                lines.append(f"{n} {what}")
        if self.inputs.height:
            lines.append(f"{self.inputs.height} input file(s) added, removed or changed")
        if self.code_changed:
            lines.append("Code or dependencies changed.")
        if len(lines) == 1:
            lines.append("No changes in articles, key numbers or claim verdicts.")
        return lines + self.notes

    def to_dict(self) -> dict:
        """JSON-ready form (dates as ISO strings) for writing next to the site."""

        def rows(df: pl.DataFrame) -> list[dict]:
            temporal = [c for c, t in df.schema.items() if t.is_temporal()]
            return df.with_columns(pl.col(temporal).cast(pl.String)).to_dicts()

        return {
            "previous_id": self.previous_id,
            "current_id": self.current_id,
            "new_articles": rows(self.new_articles),
            "removed_articles": rows(self.removed_articles),
            "key_numbers": rows(self.key_numbers),
            "verdicts": rows(self.verdicts),
            "inputs": rows(self.inputs),
            "code_changed": self.code_changed,
            "notes": list(self.notes),
        }


def _read_table(tables_dir: Path, name: str, label: str, notes: list[str]) -> pl.DataFrame | None:
    path = tables_dir / f"{name}.parquet"
    if not path.is_file():
        notes.append(
            f"{label} has no {name}.parquet, so {name.replace('_', ' ')} were not compared."
        )
        return None
    return pl.read_parquet(path)


def _input_changes(prev: dict, cur: dict) -> pl.DataFrame:
    def flat(manifest: dict) -> pl.DataFrame:
        rows = [
            {"kind": kind, "path": path, "sha256": sha}
            for kind, files in sorted((manifest.get("inputs") or {}).items())
            for path, sha in sorted(files.items())
        ]
        return pl.DataFrame(
            rows, schema={"kind": pl.String, "path": pl.String, "sha256": pl.String}
        )

    both = flat(prev).join(flat(cur), on=["kind", "path"], how="full", coalesce=True, suffix="_cur")
    return (
        both.with_columns(
            status=pl.when(pl.col("sha256").is_null())
            .then(pl.lit("added"))
            .when(pl.col("sha256_cur").is_null())
            .then(pl.lit("removed"))
            .when(pl.col("sha256") != pl.col("sha256_cur"))
            .then(pl.lit("changed"))
        )
        .filter(pl.col("status").is_not_null())
        .select("kind", "path", "status")
        .sort("kind", "path")
    )


def changes_between(
    prev_manifest: dict | None,
    prev_tables_dir: Path | None,
    current_manifest: dict,
    current_tables_dir: Path,
) -> Changes:
    """Compare two editions from their manifests and their `data/*.parquet` tables."""
    notes: list[str] = []
    cur_id = current_manifest.get("edition_id", "?")
    empty_articles = pl.DataFrame(schema={c: pl.String for c in ARTICLE_COLS})
    empty_keys = pl.DataFrame(
        schema={
            "name": pl.String,
            "unit": pl.String,
            "previous": pl.Float64,
            "current": pl.Float64,
            "delta": pl.Float64,
            "status": pl.String,
        }
    )
    empty_verdicts = pl.DataFrame(
        schema={c: pl.String for c in [*CLAIM_KEY, "previous_verdict", "verdict", "status"]}
    )
    if prev_manifest is None:
        return Changes(
            None,
            cur_id,
            empty_articles,
            empty_articles,
            empty_keys,
            empty_verdicts,
            _input_changes({}, {}),
            None,
            notes,
        )
    prev_id = prev_manifest.get("edition_id", "?")
    prev_label, cur_label = f"Edition {prev_id}", f"This edition ({cur_id})"

    def pair(name: str) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        p = _read_table(prev_tables_dir, name, prev_label, notes) if prev_tables_dir else None
        if prev_tables_dir is None:
            notes.append(f"{prev_label} has no tables folder; {name} not compared.")
        c = _read_table(current_tables_dir, name, cur_label, notes)
        return (p, c) if p is not None and c is not None else None

    new_articles = removed_articles = empty_articles
    if arts := pair("articles"):
        p, c = arts
        cols = [col for col in ARTICLE_COLS if col in c.columns]
        new_articles = c.join(p.select("article_id"), on="article_id", how="anti").select(cols)
        removed_articles = p.join(c.select("article_id"), on="article_id", how="anti").select(
            [col for col in ARTICLE_COLS if col in p.columns]
        )
        new_articles, removed_articles = (
            df.sort("article_id") for df in (new_articles, removed_articles)
        )

    key_numbers = empty_keys
    if keys := pair("key_numbers"):
        p, c = (
            df.select("name", pl.col("value").cast(pl.Float64), pl.col("unit").cast(pl.String))
            for df in keys
        )
        j = p.join(c, on="name", how="full", coalesce=True, suffix="_cur")
        key_numbers = (
            j.select(
                "name",
                unit=pl.coalesce("unit_cur", "unit"),
                previous=pl.col("value"),
                current=pl.col("value_cur"),
                delta=pl.col("value_cur") - pl.col("value"),
                status=pl.when(pl.col("value").is_null() & pl.col("value_cur").is_not_null())
                .then(pl.lit("new"))
                .when(pl.col("value_cur").is_null() & pl.col("value").is_not_null())
                .then(pl.lit("removed"))
                .when(
                    pl.col("value").ne_missing(pl.col("value_cur"))
                    | pl.col("unit").ne_missing(pl.col("unit_cur"))
                )
                .then(pl.lit("moved")),
            )
            .filter(pl.col("status").is_not_null())
            .sort("name")
        )

    verdicts = empty_verdicts
    if claims := pair("claims"):
        p, c = (df.select(*CLAIM_KEY, "verdict").unique(maintain_order=True) for df in claims)
        seen = p.rename({"verdict": "previous_verdict"}).with_columns(_seen=pl.lit(True))
        j = c.join(seen, on=CLAIM_KEY, how="left", nulls_equal=True)
        verdicts = (
            j.with_columns(
                status=pl.when(pl.col("_seen").is_null())
                .then(pl.lit("new"))
                .when(pl.col("verdict").ne_missing(pl.col("previous_verdict")))
                .then(pl.lit("changed"))
            )
            .filter(pl.col("status").is_not_null())
            .drop("_seen")
            .sort("article_id", "sentence_idx")
        )

    lock_p, lock_c = prev_manifest.get("uv_lock_sha256"), current_manifest.get("uv_lock_sha256")
    commit_p = (prev_manifest.get("git") or {}).get("commit")
    commit_c = (current_manifest.get("git") or {}).get("commit")
    code_changed = (lock_p != lock_c) or (
        commit_p is not None and commit_c is not None and commit_p != commit_c
    )
    return Changes(
        prev_id,
        cur_id,
        new_articles,
        removed_articles,
        key_numbers,
        verdicts,
        _input_changes(prev_manifest, current_manifest),
        code_changed,
        notes,
    )


def previous_edition(editions_dir: Path, current_manifest: dict) -> Path | None:
    """The newest published edition before the current one (same-day corrections included)."""
    eds = list_editions(editions_dir)
    cur_id = current_manifest.get("edition_id")
    if cur_id in eds["edition_id"].to_list():
        # Already published: its predecessor is the next row in newest-first order.
        rest = eds.with_row_index().filter(pl.col("index") > eds["edition_id"].index_of(cur_id))
    else:
        as_of = dt.date.fromisoformat(current_manifest["as_of"])
        rest = eds.filter(pl.col("as_of") <= as_of)
    return Path(editions_dir) / rest["edition_id"][0] if rest.height else None


def changes_since_previous(
    editions_dir: Path, current_manifest: dict, current_tables_dir: Path
) -> Changes:
    """What changed since the previous published edition (see `changes_between`)."""
    prev_dir = previous_edition(editions_dir, current_manifest)
    if prev_dir is None:
        return changes_between(None, None, current_manifest, current_tables_dir)
    prev_manifest = read_json(
        prev_dir / MANIFEST_NAME, "edition manifest", fix="restore the archived edition from git"
    )
    return changes_between(prev_manifest, prev_dir / "data", current_manifest, current_tables_dir)
