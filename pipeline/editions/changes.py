"""What changed between two editions: articles, key numbers, verdicts, inputs and code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.editions.archive import MANIFEST_NAME, list_editions, read_json

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
            return ["No earlier edition in the archive to compare with."] + self.notes
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


EMPTY_ARTICLES = pl.DataFrame(schema={c: pl.String for c in ARTICLE_COLS})
EMPTY_KEYS = pl.DataFrame(
    schema={
        "name": pl.String,
        "unit": pl.String,
        "previous": pl.Float64,
        "current": pl.Float64,
        "delta": pl.Float64,
        "status": pl.String,
    }
)
EMPTY_VERDICTS = pl.DataFrame(
    schema={c: pl.String for c in [*CLAIM_KEY, "previous_verdict", "verdict", "status"]}
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
    if prev_manifest is None:
        return Changes(
            previous_id=None,
            current_id=cur_id,
            new_articles=EMPTY_ARTICLES,
            removed_articles=EMPTY_ARTICLES,
            key_numbers=EMPTY_KEYS,
            verdicts=EMPTY_VERDICTS,
            inputs=_input_changes({}, {}),
            code_changed=None,
            notes=notes,
        )
    prev_id = prev_manifest.get("edition_id", "?")
    prev_label, cur_label = f"Edition {prev_id}", f"This edition ({cur_id})"

    def pair(name: str) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        p = _read_table(prev_tables_dir, name, prev_label, notes) if prev_tables_dir else None
        if prev_tables_dir is None:
            notes.append(f"{prev_label} has no tables folder; {name} not compared.")
        c = _read_table(current_tables_dir, name, cur_label, notes)
        return (p, c) if p is not None and c is not None else None

    new_articles, removed_articles = _article_changes(pair("articles"))
    return Changes(
        previous_id=prev_id,
        current_id=cur_id,
        new_articles=new_articles,
        removed_articles=removed_articles,
        key_numbers=_key_number_changes(pair("key_numbers")),
        verdicts=_verdict_changes(pair("claims")),
        inputs=_input_changes(prev_manifest, current_manifest),
        code_changed=_code_changed(prev_manifest, current_manifest),
        notes=notes,
    )


def _article_changes(arts) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Articles in the current edition only, and in the previous one only."""
    if not arts:
        return EMPTY_ARTICLES, EMPTY_ARTICLES
    p, c = arts
    new = c.join(p.select("article_id"), on="article_id", how="anti")
    removed = p.join(c.select("article_id"), on="article_id", how="anti")
    return (
        new.select([col for col in ARTICLE_COLS if col in c.columns]).sort("article_id"),
        removed.select([col for col in ARTICLE_COLS if col in p.columns]).sort("article_id"),
    )


def _key_number_changes(keys) -> pl.DataFrame:
    """Key numbers that are new, removed or moved between the two editions."""
    if not keys:
        return EMPTY_KEYS
    p, c = (
        df.select("name", pl.col("value").cast(pl.Float64), pl.col("unit").cast(pl.String))
        for df in keys
    )
    j = p.join(c, on="name", how="full", coalesce=True, suffix="_cur")
    before, now = pl.col("value"), pl.col("value_cur")
    return (
        j.select(
            "name",
            unit=pl.coalesce("unit_cur", "unit"),
            previous=before,
            current=now,
            delta=now - before,
            status=pl.when(before.is_null() & now.is_not_null())
            .then(pl.lit("new"))
            .when(now.is_null() & before.is_not_null())
            .then(pl.lit("removed"))
            .when(before.ne_missing(now) | pl.col("unit").ne_missing(pl.col("unit_cur")))
            .then(pl.lit("moved")),
        )
        .filter(pl.col("status").is_not_null())
        .sort("name")
    )


def _verdict_changes(claims) -> pl.DataFrame:
    """Claims that are new in the current edition, or whose verdict changed."""
    if not claims:
        return EMPTY_VERDICTS
    p, c = (df.select(*CLAIM_KEY, "verdict").unique(maintain_order=True) for df in claims)
    seen = p.rename({"verdict": "previous_verdict"}).with_columns(_seen=pl.lit(True))
    j = c.join(seen, on=CLAIM_KEY, how="left", nulls_equal=True)
    return (
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


def _code_changed(prev_manifest: dict, current_manifest: dict) -> bool:
    """Did the lock file or the commit change between the two editions?"""
    lock_p, lock_c = prev_manifest.get("uv_lock_sha256"), current_manifest.get("uv_lock_sha256")
    commit_p = (prev_manifest.get("git") or {}).get("commit")
    commit_c = (current_manifest.get("git") or {}).get("commit")
    return (lock_p != lock_c) or (
        commit_p is not None and commit_c is not None and commit_p != commit_c
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
