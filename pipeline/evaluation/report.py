"""Printing an evaluation (one table per language, then overall) and writing it as JSON.

Each row is one figure with its count and the issue's target beside it, so a reader sees at
once how far the engine is from where it should be. The JSON holds the same figures plus the
items behind them (which article was dropped, which claim was missed), for whoever fixes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.evaluation.metrics import OVERALL
from pipeline.evaluation.run import Evaluation
from pipeline.evaluation.targets import TARGETS, meets

# Display order; a blank name starts a new block.
ROWS = (
    "articles read",
    "articles rejected",
    "articles dropped silently",
    "language right",
    "date right",
    "date right (date in text)",
    "date right (metadata only)",
    "dates wrong by > 30 days",
    "dates not found",
    "publisher right",
    "title right",
    "",
    "claim recall",
    "claim labels without a number",
    "instrument right",
    "claim date right",
    "kind right",
    "sign right",
    "verdict right",
    "false contradicted",
    "amounts read as prices",
    "non-market numbers made claims",
    "pipeline claims matching no label",
)
MATCHED = {"instrument right", "claim date right", "kind right", "sign right", "verdict right"}


def _figure(num: int | None, den: int | None) -> tuple[str, str, float | None]:
    """(figure, count, value) for a rate or a count."""
    if den is None:
        return str(num), "", None if num is None else float(num)
    if not den:
        return "-", "0/0", None
    value = num / den
    return f"{value:.1%}", f"{num}/{den}", value


def _target(metric: str, value: float | None) -> tuple[str, str]:
    if metric not in TARGETS:
        return "", ""
    op, bound = TARGETS[metric]
    shown = f"{op} {bound:.0%}" if isinstance(bound, float) else f"{op} {bound}"
    met = meets(op, bound, value)
    return shown, "" if met is None else ("ok" if met else "MISS")


def _lines(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def language_table(ev: Evaluation, lang: str) -> str:
    """The figures of one language (or `overall`) as an aligned text table."""
    mine = {m: (n, d) for _, m, n, d in ev.metrics.filter(pl.col("lang") == lang).rows()}
    rows = [("figure", "value", "count", "target", "")]
    for metric in ROWS:
        if not metric:
            rows.append(("",) * 5)
            continue
        if metric not in mine:
            continue
        shown, counted, value = _figure(*mine[metric])
        label = f"  {metric} (of matched)" if metric in MATCHED else metric
        rows.append((label, shown, counted, *_target(metric, value)))
        if metric == "claim recall":
            rows += _kind_rows(ev, lang)
    return "\n".join(_lines(rows))


def _kind_rows(ev: Evaluation, lang: str) -> list[tuple[str, ...]]:
    kinds = ev.recall_by_kind.filter(pl.col("lang") == lang)
    return [
        (f"  recall {kind}", *_figure(num, den)[:2], "", "") for _, kind, num, den in kinds.rows()
    ]


def confusion_table(ev: Evaluation, lang: str) -> str:
    """Label verdict (rows) x pipeline verdict (columns), `missed` for claims not found."""
    cells = ev.confusion.filter(pl.col("lang") == lang)
    if not cells.height:
        return ""
    cols = ["supported", "contradicted", "unverifiable", "missed"]
    cols += sorted(set(cells["p_verdict"]) - set(cols))
    counts = {(e, p): n for _, e, p, n in cells.rows()}
    rows = [("label \\ pipeline", *cols)]
    for label in sorted(set(cells["expected_verdict"])):
        rows.append((label, *[str(counts.get((label, c), 0)) for c in cols]))
    return "\n".join(_lines(rows))


def format_report(ev: Evaluation) -> str:
    """Every language's table, then the overall one, each with its verdict confusion matrix."""
    parts = [f"evaluation of {ev.articles_dir} against {ev.labels_dir} (edition as-of {ev.as_of})"]
    for lang in [*ev.languages, OVERALL]:
        n = ev.articles.height if lang == OVERALL else ev.articles["lang"].eq(lang).sum()
        parts.append(f"\n== {lang} ({n} labelled articles) ==")
        parts.append(language_table(ev, lang))
        confusion = confusion_table(ev, lang)
        if confusion:
            parts.append("\nverdicts of market-claim labels:\n" + confusion)
    return "\n".join(parts) + "\n"


def _records(frame: pl.DataFrame, columns: list[str]) -> list[dict]:
    present = [c for c in columns if c in frame.columns]
    return json.loads(frame.select(present).write_json())


def report_json(ev: Evaluation) -> dict:
    """The figures per language (value, num, den, target, met) plus the items behind them."""
    figures: dict[str, dict] = {}
    for lang, metric, num, den in ev.metrics.rows():
        shown, _, value = _figure(num, den)
        op_bound = TARGETS.get(metric)
        figures.setdefault(lang, {})[metric] = {
            "num": num,
            "den": den,
            "value": value,
            "target": list(op_bound) if op_bound else None,
            "met": meets(*op_bound, value) if op_bound else None,
        }
    art_cols = ["file", "lang", "status", "reject_reason", "published_date", "p_date"]
    claim_cols = ["label_id", "file", "quote", "kind", "value", "expected_verdict"]
    return {
        "labels": str(ev.labels_dir),
        "articles": str(ev.articles_dir),
        "as_of": ev.as_of.isoformat(),
        "targets": {m: list(t) for m, t in TARGETS.items()},
        "figures": figures,
        "recall_by_kind": _records(ev.recall_by_kind, ["lang", "kind", "num", "den"]),
        "verdict_confusion": _records(ev.confusion, ["lang", "expected_verdict", "p_verdict", "n"]),
        "articles_not_read": _records(ev.articles.filter(~pl.col("read")), art_cols),
        "dates_wrong": _records(
            ev.articles.filter(pl.col("date_right").not_()), [*art_cols, "p_date_method"]
        ),
        "claims_missed": _records(
            ev.claims.filter(pl.col("market") & pl.col("has_value") & ~pl.col("matched")),
            claim_cols,
        ),
        "false_contradicted": _records(
            ev.claims.filter(pl.col("false_contradicted")), [*claim_cols, "p_quote", "p_date"]
        ),
        "amounts_read_as_prices": _records(
            ev.as_prices, ["file", "p_quote", "p_value", "p_kind", "label_id"]
        ),
        "pipeline_claims_matching_no_label": _records(
            ev.unmatched, ["file", "p_quote", "p_value", "p_kind"]
        ),
    }


def write_json(ev: Evaluation, path: Path) -> Path:
    """Write `report_json` to `path` (folders created), UTF-8, keys sorted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report_json(ev), indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
