"""Is the built site still current? The cheap check that lets `make report` do nothing.

The edition id is `<as-of>-<hash>`, and the default as-of date is the newest article's date,
which takes reading the corpus to know. The check goes the other way round: it takes the as-of
date and inputs hash from the site's last manifest, hashes the inputs and code as they are now
(file hashes only, about 20 ms), and compares. Equal hashes mean equal inputs, so the as-of
date derived from them is equal too. Settings that shape the site without being inputs (the
requested as-of, the engine, the site URL, the published editions, the git commit shown in the
footer) are kept beside it in `.build/last-build.json` and must match as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings

STATE_NAME = "last-build.json"


def _stat_digest(root: Path) -> str:
    """Names, sizes and modification times under `root`: the published editions change only
    by `make publish` adding a folder, so their bytes need not be read."""
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(
                    f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode()
                )
    return h.hexdigest()


def build_state(settings: Settings, engine: str) -> dict:
    """What, besides the inputs, decides the bytes of the site."""
    from pipeline.editions.manifest import git_state

    return {
        "requested_as_of": settings.as_of.isoformat() if settings.as_of else None,
        "engine": engine,
        "site_url": settings.site_url,
        "processed_dir": str(settings.processed_dir),
        "editions": _stat_digest(settings.editions_dir),
        "git": git_state(PROJECT_ROOT),
    }


def state_path(settings: Settings) -> Path:
    from pipeline.render.build import build_root

    return build_root(settings.site_dir) / STATE_NAME


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def current_edition(settings: Settings, engine: str) -> str | None:
    """The id of the built edition if nothing it was built from changed, else None."""
    from pipeline.editions.archive import MANIFEST_NAME
    from pipeline.editions.identity import inputs_hash

    saved = _read_json(state_path(settings))
    manifest = _read_json(settings.site_dir / MANIFEST_NAME)
    tables = _read_json(settings.processed_dir / "edition.json")
    if not (saved and manifest and tables):
        return None
    edition = manifest.get("edition_id")
    if saved.get("state") != build_state(settings, engine) or saved.get("edition") != edition:
        return None
    if tables.get("edition") != edition:
        return None  # the tables were rebuilt (e.g. `make tables` with other settings)
    try:
        as_of = dt.date.fromisoformat(manifest["as_of"])
    except (KeyError, TypeError, ValueError):
        return None
    if inputs_hash(settings, as_of) != manifest.get("inputs_hash"):
        return None
    return edition


def record_build(settings: Settings, engine: str, edition: str) -> None:
    """Remember what the site now in place was built from (after it was swapped in)."""
    from pipeline.io import write_json_atomic

    write_json_atomic(
        {"edition": edition, "state": build_state(settings, engine)}, state_path(settings)
    )
