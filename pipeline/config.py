"""Settings read from the environment, each with a default that works from a fresh clone.

All configuration lives here so the README can list it in one table and tests can build a
`Settings` pointing at fixtures without touching `os.environ`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    path = Path(value) if value else default
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def printable(value: object) -> str:
    """Text safe to print and to store in a table column.

    A file name may hold bytes that are not UTF-8 (Python keeps them as lone surrogates);
    Polars, Parquet and the terminal all refuse those, so they are shown as `\\xNN` instead.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def ensure_inside(path: Path, root: Path, what: str = "file") -> Path:
    """`path` resolved, if it lies inside `root`; otherwise an InputError naming it.

    The one check for paths that come from input (links in the articles folder, ids read from
    files or the command line): a link or a `..` that leads out of the folder would let a stray
    file from elsewhere on the machine reach the tables and the published site, or a write land
    outside the output folders.
    """
    resolved = Path(path).resolve()
    base = Path(root).resolve()
    if resolved != base and base not in resolved.parents:
        raise InputError(
            f"{what} leads outside {printable(base)} (to {printable(resolved)})",
            printable(path),
            fix="copy the file into the folder instead of linking to it, or remove it",
        )
    return resolved


def _paths_from_env(name: str, default: tuple[Path, ...]) -> tuple[Path, ...]:
    """Several folders in one variable, separated by `os.pathsep` (`:` on Linux and macOS,
    `;` on Windows), as PATH is; relative ones are taken from the checkout."""
    parts = [v.strip() for v in os.environ.get(name, "").split(os.pathsep) if v.strip()]
    paths = [Path(v) for v in parts] or list(default)
    return tuple(p if p.is_absolute() else (PROJECT_ROOT / p) for p in paths)


def _seconds_from_env(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise InputError(f"{name}={value!r} is not a number of seconds", fix=f"e.g. {name}=1")
    return seconds


def parse_as_of(value: str | None) -> dt.date | None:
    """Parse BRIEFING_AS_OF (YYYY-MM-DD); empty means "the newest article's date"."""
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"BRIEFING_AS_OF={value!r} is not a date",
            fix="use the form YYYY-MM-DD, e.g. BRIEFING_AS_OF=2025-11-14",
        ) from None


@dataclass(frozen=True)
class Settings:
    """Where inputs come from and outputs go. Paths are absolute."""

    articles_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "articles")
    market_dir: Path = field(
        default_factory=lambda: PROJECT_ROOT.parent / "shared" / "data" / "market"
    )
    lexicon_dir: Path = field(
        default_factory=lambda: PROJECT_ROOT.parent / "shared" / "data" / "lexicons"
    )
    reference_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "reference")
    processed_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "processed")
    site_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "_site")
    editions_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "editions")
    as_of: dt.date | None = None
    site_url: str = "https://example.invalid/alibaba-briefing/"
    # Market folders read after `market_dir`, in order (the weekly updates); see `market_dirs`.
    market_updates: tuple[Path, ...] = ()
    # Where `python -m pipeline market update` writes (git-ignored).
    market_update_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "market")
    # The live chart API, `{symbol}` where the symbol goes; empty: Yahoo's (pipeline.market.live).
    market_url: str = ""
    fetch_delay: float = 1.0  # seconds between two requests to one host (update, add)

    @property
    def market_dirs(self) -> tuple[Path, ...]:
        """Every market folder, first the snapshot (`market_dir`), then the updates.

        Where two folders cover the same day of an instrument the earlier one wins (see
        `pipeline.market.prices.update_sources`); `market_dir` alone stays the snapshot for the
        code that reads named snapshot files.
        """
        return (self.market_dir, *self.market_updates)

    @classmethod
    def from_env(cls) -> Settings:
        """Read every BRIEFING_* variable; unset or empty ones take the defaults."""
        d = cls()
        # BRIEFING_MARKET_DIR=SNAPSHOT[:UPDATES...]; unset: the shared snapshot, then the local
        # updates folder that `make update-market` writes.
        market = _paths_from_env("BRIEFING_MARKET_DIR", (d.market_dir, d.market_update_dir))
        return cls(
            articles_dir=_path_from_env("BRIEFING_ARTICLES_DIR", d.articles_dir),
            market_dir=market[0],
            market_updates=market[1:],
            market_update_dir=_path_from_env("BRIEFING_MARKET_UPDATE_DIR", d.market_update_dir),
            market_url=os.environ.get("BRIEFING_MARKET_URL", "").strip(),
            fetch_delay=_seconds_from_env("BRIEFING_FETCH_DELAY", d.fetch_delay),
            lexicon_dir=_path_from_env("BRIEFING_LEXICON_DIR", d.lexicon_dir),
            reference_dir=_path_from_env("BRIEFING_REFERENCE_DIR", d.reference_dir),
            processed_dir=_path_from_env("BRIEFING_PROCESSED_DIR", d.processed_dir),
            site_dir=_path_from_env("BRIEFING_SITE_DIR", d.site_dir),
            editions_dir=_path_from_env("BRIEFING_EDITIONS_DIR", d.editions_dir),
            as_of=parse_as_of(os.environ.get("BRIEFING_AS_OF")),
            site_url=os.environ.get("BRIEFING_SITE_URL", "").strip() or d.site_url,
        )

    def check(self) -> None:
        """Fail early, with the fix, when an input folder is missing."""
        if not self.articles_dir.is_dir():
            raise InputError(
                "articles folder not found",
                self.articles_dir,
                fix="set BRIEFING_ARTICLES_DIR to the folder holding the articles",
            )
        if not self.market_dir.is_dir():
            raise InputError(
                "market data folder not found",
                self.market_dir,
                fix="set BRIEFING_MARKET_DIR to the market snapshot, e.g. ../shared/data/market",
            )
        for folder in self.market_updates:
            # The local updates folder exists only after the first `make update-market`.
            if not folder.is_dir() and folder != self.market_update_dir:
                raise InputError(
                    "market updates folder not found",
                    folder,
                    fix="create it with `make update-market`, or drop it from BRIEFING_MARKET_DIR",
                )
