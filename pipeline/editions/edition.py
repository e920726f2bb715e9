"""One edition's tables on disk: built, identified once, and written with the metadata renderers read.

This is the one caller of `compute_edition` in a build. Table code never hashes inputs or runs
git; the edition id is computed here, after the tables fixed the as-of date, and passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.identity import (
    Edition,
    compute_edition,
    input_files_by_kind,
    market_inputs_hash,
)
from pipeline.editions.manifest import build_manifest, manifest_summary
from pipeline.tables import Reuse, Tables, build_tables, write_tables


@dataclass(frozen=True)
class BuiltEdition:
    tables: Tables
    edition: Edition
    written: list[Path]

    def __getitem__(self, name: str):
        return self.tables[name]

    @property
    def frames(self):
        return self.tables.frames

    @property
    def rejects(self):
        return self.tables.rejects


def edition_metadata(
    edition: Edition, settings: Settings, engine: str | None = None
) -> dict[str, str]:
    """Metadata Quarto and the built-in renderer read through `metadata-files`.

    The summary comes from the manifest without outputs (they do not exist yet); the full
    manifest is written by post-render once every output does. `engine` is the one that will
    render the pages (default: `render_engine()`), whose tools the summary names.
    """
    manifest = build_manifest(
        edition,
        input_files_by_kind(settings),
        settings.site_dir,
        PROJECT_ROOT,
        include_outputs=False,
        engine=engine,
    )
    return {
        "edition": edition.id,
        "as-of": edition.as_of.isoformat(),
        "inputs-hash": edition.inputs_hash,
        "manifest-summary": manifest_summary(manifest),
        # The web pages' stamp, shown by `{{< meta edition-line >}}` rather than a cell, so a
        # page whose cells read nothing that changed needs no kernel (docs/rendering.md).
        "edition-line": f"Edition {edition.id} · data as of {edition.as_of.isoformat()}",
    }


def build_edition(
    settings: Settings,
    out_dir: Path | None = None,
    engine: str | None = None,
    reuse: bool = True,
) -> BuiltEdition:
    """Build every table, compute the edition id once, and write both to `out_dir`.

    With `reuse`, the market tables already in `out_dir` are kept when the market files, the
    reference tables, the code and the as-of date are as they were built from.
    """
    out = out_dir or settings.processed_dir
    tables = build_tables(settings, Reuse(out, market_inputs_hash(settings)) if reuse else None)
    edition = compute_edition(settings, tables.as_of)
    written = write_tables(tables, out, edition_metadata(edition, settings, engine))
    return BuiltEdition(tables=tables, edition=edition, written=written)
