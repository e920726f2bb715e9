"""The reviewed reference tables in `data/reference/`, loaded and checked in one place.

Facts about instruments (which exchange, which calendar, which benchmark, which words name
them) live in `instruments.csv` and nowhere else: every stage reads them from here, so a
briefing on another company is a change to the reference data, not to the code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from pipeline.config import PROJECT_ROOT
from pipeline.errors import InputError

DEFAULT_DIR = PROJECT_ROOT / "data" / "reference"
INSTRUMENT_KINDS = ("listing", "index", "etf")
INSTRUMENT_COLUMNS = (
    "instrument",
    "kind",
    "name",
    "issuer",
    "exchange",
    "calendar",
    "timezone",
    "currency",
    "benchmark",
    "live_symbol",
    "names_en",
    "names_de",
    "names_zh",
)
NAME_LANGUAGES = ("en", "de", "zh")


@dataclass(frozen=True)
class Instrument:
    """One row of `instruments.csv`; `names` maps a language to the phrases that name it."""

    instrument: str
    kind: str
    name: str
    issuer: str
    exchange: str
    calendar: str
    timezone: str
    currency: str
    benchmark: str | None
    live_symbol: str
    names: dict[str, tuple[str, ...]]


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers (the header is line 1), so errors can point at them."""
    if not path.is_file():
        raise InputError("reference table not found", path, fix="restore it from git")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in INSTRUMENT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing columns {', '.join(missing)}", path, 1)
        return [(reader.line_num, dict(row)) for row in reader]


def _instrument(row: dict[str, str], path: Path, line: int) -> Instrument:
    for column in ("instrument", "kind", "exchange", "calendar", "timezone", "currency"):
        if not (row.get(column) or "").strip():
            raise InputError(f"empty `{column}`", path, line)
    if row["kind"] not in INSTRUMENT_KINDS:
        raise InputError(
            f"kind {row['kind']!r} is not one of {', '.join(INSTRUMENT_KINDS)}", path, line
        )
    names = {
        lang: tuple(p.strip() for p in (row[f"names_{lang}"] or "").split(";") if p.strip())
        for lang in NAME_LANGUAGES
    }
    return Instrument(
        instrument=row["instrument"].strip(),
        kind=row["kind"].strip(),
        name=row["name"].strip(),
        issuer=(row["issuer"] or "").strip(),
        exchange=row["exchange"].strip(),
        calendar=row["calendar"].strip(),
        timezone=row["timezone"].strip(),
        currency=row["currency"].strip(),
        benchmark=(row["benchmark"] or "").strip() or None,
        live_symbol=(row["live_symbol"] or "").strip(),
        names=names,
    )


@cache
def instruments(reference_dir: Path = DEFAULT_DIR) -> dict[str, Instrument]:
    """Every instrument, keyed by its id; a bad row is an InputError naming file and line."""
    path = Path(reference_dir) / "instruments.csv"
    found: dict[str, Instrument] = {}
    lines: dict[str, int] = {}
    for line, row in _read_rows(path):
        ins = _instrument(row, path, line)
        if ins.instrument in found:
            raise InputError(
                f"instrument {ins.instrument} is listed twice (first on line "
                f"{lines[ins.instrument]})",
                path,
                line,
            )
        found[ins.instrument], lines[ins.instrument] = ins, line
    for ins in found.values():
        if ins.benchmark and ins.benchmark not in found:
            raise InputError(
                f"benchmark {ins.benchmark} of {ins.instrument} is not an instrument",
                path,
                lines[ins.instrument],
            )
    return found


def listings(reference_dir: Path = DEFAULT_DIR) -> tuple[str, ...]:
    """The subject's listings, in the table's order (e.g. BABA, 9988.HK)."""
    return tuple(i for i, ins in instruments(reference_dir).items() if ins.kind == "listing")


def benchmark_of(reference_dir: Path = DEFAULT_DIR) -> dict[str, str]:
    """Each listing's benchmark index (BABA → SPX, 9988.HK → HSI)."""
    return {i: ins.benchmark for i, ins in instruments(reference_dir).items() if ins.benchmark}


def instruments_table(reference_dir: Path = DEFAULT_DIR) -> pl.DataFrame:
    """The instruments as a frame, for joins (names are left out: they are lists per language)."""
    rows = [
        {
            "instrument": ins.instrument,
            "kind": ins.kind,
            "name": ins.name,
            "exchange": ins.exchange,
            "calendar": ins.calendar,
            "timezone": ins.timezone,
            "currency": ins.currency,
            "benchmark": ins.benchmark,
            "live_symbol": ins.live_symbol,
        }
        for ins in instruments(reference_dir).values()
    ]
    return pl.DataFrame(rows)


RISK_TERM_COLUMNS = ("risk", "language", "pattern")


def risk_terms(reference_dir: Path = DEFAULT_DIR) -> pl.DataFrame:
    """The risks the briefing tracks (`risk`, `language`, `pattern`), from `risk_terms.csv`.

    Each pattern must compile as a regular expression; a bad one is an error naming its line.
    """
    import re

    path = Path(reference_dir) / "risk_terms.csv"
    if not path.is_file():
        raise InputError("reference table not found", path, fix="restore it from git")
    terms = pl.read_csv(path, infer_schema=False)
    missing = [c for c in RISK_TERM_COLUMNS if c not in terms.columns]
    if missing:
        raise InputError(f"missing columns {', '.join(missing)}", path, 1)
    for line, pattern in enumerate(terms["pattern"].to_list(), start=2):
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise InputError(
                f"pattern {pattern!r} is not a regular expression ({exc})", path, line
            ) from None
    return terms
