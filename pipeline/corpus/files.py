"""Reading article files: size and trust checks, decoding, front matter, sidecars, HTML.

Everything here is per file (it is I/O). `read_one` turns one file and its sidecar into a row of
RAW_SCHEMA; the rest of the stage works on whole columns of those rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import reprlib
from pathlib import Path

import polars as pl
import yaml

from pipeline.config import ensure_inside, printable
from pipeline.corpus.html import html_to_text
from pipeline.errors import InputError

MAX_BYTES = 20 * 1024 * 1024  # larger files are not news articles; reject them unread
ARTICLE_EXTS = {".txt", ".md", ".markdown", ".html", ".htm"}
SIDECAR_SUFFIX = ".meta.yml"
META_KEYS = ("source", "url", "published_at", "title", "language")
EXTRA_META_KEYS = ("byline", "author")  # accepted, go to byline
# Accepted and kept out of the tables: when `make add` fetched the page is provenance, not a
# publication date (it must never be mistaken for one).
RECORD_META_KEYS = ("fetched_at",)


def article_files(articles_dir: Path) -> list[Path]:
    """Article files under the folder, sorted; sidecars and hidden files are not articles."""
    return sorted(
        p
        for p in articles_dir.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.endswith(SIDECAR_SUFFIX)
        and p.suffix.lower() in ARTICLE_EXTS
    )


def decode_bytes(data: bytes, path: Path) -> str:
    """UTF-8 first; otherwise the encoding charset-normalizer finds; otherwise InputError."""
    if b"\x00" in data[:8192]:
        raise InputError(
            "binary file (contains NUL bytes), not a text article",
            path,
            fix="remove it from the articles folder or save the article as text",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(
            "cannot decode: not UTF-8 and no other text encoding fits",
            path,
            fix="re-save the file as UTF-8",
        )
    text = str(best)
    controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\n\r\t")
    if controls > 0.05 * max(1, len(text[:4096])):
        raise InputError("binary file (control characters), not a text article", path)
    return text


# --- hostile input: names, links and metadata YAML (trust checks, kept together) ------------
MAX_META_BYTES = 64 * 1024  # metadata is a handful of keys; more is a mistake or an attack


def _brief(value: object) -> str:
    """A bounded repr for error messages: a YAML alias bomb must not be printed in full."""
    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother = 2, 60, 60
    return r.repr(value)


def _check_location(path: Path, root: Path) -> None:
    """Refuse names that cannot be stored as text, and links that lead out of the folder."""
    rel = path.relative_to(root).as_posix()
    if printable(rel) != rel:
        raise InputError(
            "file name is not valid UTF-8, so it cannot be listed in the tables",
            printable(path),
            fix="rename the file",
        )
    ensure_inside(path, root, "link")


def _load_meta_yaml(text: str, path: Path, where: str, first_line: int) -> object:
    """Safe-load front matter or a sidecar; every failure is an InputError naming file and line.

    `safe_load` refuses `!!python/...` tags. The size cap and the RecursionError catch stop
    huge or deeply nested documents; values are never expanded (see `_brief`).
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_META_BYTES:
        raise InputError(
            f"{where} is larger than {MAX_META_BYTES // 1024} KB; metadata is a few keys",
            path,
            fix="keep only source, url, published_at, title, language, byline",
        )
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = None if mark is None else mark.line + first_line
        raise InputError(f"{where} is not valid YAML: {exc}", path, line=line) from None
    except RecursionError:
        raise InputError(f"{where} is nested too deeply to be metadata", path) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2025-02-30
        raise InputError(f"{where} has a value YAML cannot read: {exc}", path) from None


def _check_meta(meta: object, path: Path, where: str) -> tuple[dict, list[str]]:
    """Validate sidecar/front-matter keys and types; unknown keys become issues."""
    if meta is None:
        return {}, []
    if not isinstance(meta, dict):
        raise InputError(
            f"{where} must be a mapping of keys to values, got {type(meta).__name__}",
            path,
            fix="write it as 'key: value' lines",
        )
    issues = [
        f"unknown {where} key '{k}'"
        for k in meta
        if k not in META_KEYS + EXTRA_META_KEYS + RECORD_META_KEYS
    ]
    out: dict = {}
    for key in META_KEYS + EXTRA_META_KEYS:
        if key not in meta or meta[key] is None:
            continue
        value = meta[key]
        if key == "published_at":
            if not isinstance(value, str | dt.date):
                raise InputError(
                    f"{where} published_at must be a date or date-time, got {_brief(value)}",
                    path,
                    fix="write e.g. published_at: 2025-11-18T17:50:00+01:00",
                )
        elif not isinstance(value, str):
            raise InputError(f"{where} {key} must be text, got {_brief(value)}", path)
        out[key] = value
    return out, issues


def _parse_meta_datetime(
    value: str | dt.date, path: Path, where: str
) -> tuple[dt.datetime, dt.date, bool]:
    """(UTC datetime, local date, whether a time of day was given) from a metadata value;
    naive times are taken as UTC, and a bare date as midnight UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC), value, False
    else:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            import dateparser

            parsed = dateparser.parse(
                value,
                settings={"PREFER_DAY_OF_MONTH": "first", "RELATIVE_BASE": dt.datetime(2000, 1, 1)},
            )
            if parsed is None:
                raise InputError(
                    f"{where} published_at {value!r} is not a date",
                    path,
                    fix="use ISO 8601, e.g. 2025-11-18T17:50:00+01:00",
                ) from None
    local_date = parsed.date()
    time_known = isinstance(value, dt.datetime) or re.search(r"\d:\d", str(value)) is not None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC), local_date, time_known


def _split_front_matter(text: str) -> tuple[str | None, str]:
    if not text.startswith("---"):
        return None, text
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    return None, text


def read_one(path: Path, root: Path, max_bytes: int = MAX_BYTES) -> dict:
    """One article file (plus sidecar) as a raw-document row; InputError when unusable."""
    _check_location(path, root)
    size = path.stat().st_size
    if size == 0:
        raise InputError("empty file", path, fix="delete it or paste the article text into it")
    if size > max_bytes:
        raise InputError(
            f"file is {size / 1e6:.1f} MB, larger than the {max_bytes / 1e6:.0f} MB limit for an article",
            path,
            fix="check it is an article; split or remove it",
        )
    data = path.read_bytes()
    text = decode_bytes(data, path).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("file has no text (only whitespace)", path)
    fmt = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}.get(
        path.suffix.lower(), "txt"
    )
    text, meta, origin, issues = _embedded_metadata(text, fmt, path)
    side, more = _sidecar(path, root)
    meta.update(side)
    origin.update({k: "sidecar" for k in side})
    published_at = published_date = time_known = None
    if meta.get("published_at") is not None:
        where = origin.get("published_at", "metadata")
        published_at, published_date, time_known = _parse_meta_datetime(
            meta["published_at"], path, where
        )
    return {
        "article_id": hashlib.sha256(data).hexdigest()[:16],
        "path": path.relative_to(root).as_posix(),
        "format": fmt,
        "raw_text": text,
        "meta_source": meta.get("source"),
        "meta_url": meta.get("url"),
        "meta_title": meta.get("title"),
        "meta_language": (meta.get("language") or "").strip().lower()[:2] or None,
        "meta_byline": meta.get("byline") or meta.get("author"),
        "meta_published_at": published_at,
        "meta_published_date": published_date,
        "meta_time_known": time_known,
        **{f"origin_{k}": origin.get(k) for k in ("source", "url", "title", "published_at")},
        "pre_issues": issues + more,
    }


def _embedded_metadata(text: str, fmt: str, path: Path) -> tuple[str, dict, dict, list[str]]:
    """(text without its metadata, metadata, where each key came from, issues) for front
    matter in Markdown and the tags of an HTML page."""
    meta: dict = {}
    issues: list[str] = []
    if fmt == "md":
        fm, body = _split_front_matter(text)
        if fm is not None:
            loaded = _load_meta_yaml(fm, path, "front matter", first_line=2)
            meta, issues = _check_meta(loaded, path, "front matter")
            return body, meta, {k: "front_matter" for k in meta}, issues
    elif fmt == "html":
        text, meta = html_to_text(text, path)
        if not text.strip():
            raise InputError("HTML page has no main text that trafilatura could extract", path)
        return text, meta, {k: "html_meta" for k in meta}, issues
    return text, meta, {}, issues


def _sidecar(path: Path, root: Path) -> tuple[dict, list[str]]:
    """The checked keys of NAME.meta.yml next to the article, and issues; {} when none."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}, []
    ensure_inside(sidecar, root, "sidecar link")
    if sidecar.stat().st_size > MAX_META_BYTES:
        raise InputError(f"sidecar is larger than {MAX_META_BYTES // 1024} KB", sidecar)
    try:
        side_text = sidecar.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"sidecar is not valid UTF-8: {exc}", sidecar) from None
    loaded = _load_meta_yaml(side_text, sidecar, "sidecar", first_line=1)
    return _check_meta(loaded, sidecar, "sidecar")


RAW_SCHEMA = {
    "article_id": pl.String,
    "path": pl.String,
    "format": pl.String,
    "raw_text": pl.String,
    "meta_source": pl.String,
    "meta_url": pl.String,
    "meta_title": pl.String,
    "meta_language": pl.String,
    "meta_byline": pl.String,
    "meta_published_at": pl.Datetime("us", "UTC"),
    "meta_published_date": pl.Date,
    "meta_time_known": pl.Boolean,
    "origin_source": pl.String,
    "origin_url": pl.String,
    "origin_title": pl.String,
    "origin_published_at": pl.String,
    "pre_issues": pl.List(pl.String),
}


def raw_frame(texts: list[str], paths: list[str] | None = None) -> pl.DataFrame:
    """A raw-document frame from plain texts (no metadata), as the benchmark builds it."""
    paths = paths or [f"synthetic/{i:07d}.txt" for i in range(len(texts))]
    df = pl.DataFrame({"path": paths, "raw_text": texts})
    return df.select(
        article_id=pl.col("raw_text").hash(7).cast(pl.String).str.zfill(20).str.slice(0, 16),
        path="path",
        format=pl.lit("txt"),
        raw_text="raw_text",
        **{k: pl.lit(None, v) for k, v in RAW_SCHEMA.items() if k.startswith(("meta_", "origin_"))},
        pre_issues=pl.lit([], pl.List(pl.String)),
    )
