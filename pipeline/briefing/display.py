"""What a report cell shows: charts, tables and prose that work under both engines.

A cell never asks which engine runs it. Like Quarto, the built-in renderer writes a JSON file
and points `QUARTO_EXECUTE_INFO` at it; `format.pandoc.to` says whether the page is being
made for HTML or Typst. Charts then become a Vega-Lite embed (HTML, scripts served from the
site) or a vector SVG (PDF); tables and prose are Markdown, which both engines read.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import altair as alt
import polars as pl

from pipeline.briefing.site_paths import CHART_DATA_DIR, SITE_ROOT_FROM_PAGE, VEGA_BUNDLE

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$@~^&:;=%\"'/])")


def output_format() -> str:
    """The pandoc target of the running render ("html", "typst", ...); "html" outside a render."""
    info = os.environ.get("QUARTO_EXECUTE_INFO")
    if not info:
        return "html"
    try:
        data = json.loads(Path(info).read_text(encoding="utf-8"))
        return str(data["format"]["pandoc"]["to"])
    except (OSError, KeyError, TypeError, ValueError):
        return "html"


def is_html() -> bool:
    return output_format().startswith("html")


def escape_md(text: object) -> str:
    """Make untrusted text (article titles, quotes) literal in Markdown.

    Backslash-escaping every ASCII punctuation mark is valid pandoc Markdown, so `<script>`
    stays text in HTML and Typst markup stays text in the PDF.
    """
    if text is None:
        return ""
    # Collapse ASCII whitespace only: a non-breaking space keeps a date or amount on one line.
    flat = re.sub(r"[ \t\r\n\f\v]+", " ", str(text)).strip()
    return _MD_SPECIAL.sub(r"\\\1", flat)


def url_md(url: object) -> str:
    """A link to an http(s) URL from article metadata, or "" for anything else (`javascript:`,
    `data:`, relative paths). Characters that could end the autolink are percent-encoded."""
    text = str(url).strip()
    if not re.match(r"(?i)^https?://[^\s/]", text):
        return ""
    return "<" + quote(text, safe=":/?#[]@!$&'()*+,;=%~") + ">"


class Markdown:
    """Markdown emitted as a cell's display output; both engines splice it into the page."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self.text}

    def __str__(self) -> str:
        return self.text


def markdown_table(
    df: pl.DataFrame,
    formats: dict[str, str] | None = None,
    markdown: Sequence[str] = (),
    widths: dict[str, int] | None = None,
) -> str:
    """A pipe table of `df` with every cell escaped; floats rounded by `formats` ("{:.2f}").
    Columns named in `markdown` hold Markdown the caller built from escaped parts (a verdict
    chip) and are not escaped again. `widths` gives a column of long prose more room than the
    rule below allows (in the same units: about a character each)."""
    formats = formats or {}
    body = [
        [
            "—" if value is None else formats[name].format(value) if name in formats else str(value)
            for name, value in zip(df.columns, row, strict=True)
        ]
        for row in df.iter_rows()
    ]
    # Pandoc sizes wrapped columns by the dashes under each header. A word cannot wrap, so each
    # column gets at least its longest word (with some slack); longer text is capped so it wraps
    # instead of squeezing the other columns.
    sizes = []
    for i, name in enumerate(df.columns):
        # A non-breaking space ("12 Feb", "HK$956m") joins words: only ASCII spaces split.
        cells = [re.sub(r"[ \t\n]+", " ", c).strip() for c in (name, *(row[i] for row in body))]
        longest_word = max(len(word) for cell in cells for word in cell.split(" ") or [""])
        # 1.6: a word in bold or at the print size needs more room than its letter count.
        fit = max(4, min(round(longest_word * 1.6) + 2, 26), min(max(map(len, cells)), 30))
        sizes.append((widths or {}).get(name, fit))
    rule = [
        "-" * (w - 1) + ":" if df[c].dtype.is_numeric() else ":" + "-" * (w - 1)
        for c, w in zip(df.columns, sizes, strict=True)
    ]
    raw = [name in markdown for name in df.columns]
    lines = [[escape_md(c) for c in df.columns]] + [
        [c if r else escape_md(c) for c, r in zip(row, raw, strict=True)] for row in body
    ]
    text = ["| " + " | ".join(cells) + " |" for cells in lines]
    text.insert(1, "|" + "|".join(rule) + "|")
    return "\n".join(text)


def table(
    df: pl.DataFrame,
    caption: str | None = None,
    formats: dict[str, str] | None = None,
    *,
    label: str | None = None,
    markdown: Sequence[str] = (),
    widths: dict[str, int] | None = None,
) -> Markdown:
    """Show a table in either format; the caption becomes a labelled pandoc table caption. In
    HTML the table sits in a frame of its own, so it never widens the page; a table of
    CARD_COLUMNS or more columns turns into stacked cards on a phone instead of scrolling.

    A captioned table always carries a `tbl-` label (`: caption {#tbl-x}`), made from the
    caption unless `label=` names it: Quarto drops unlabelled captions from Typst output
    (quarto-cli #11733) and numbers labelled ones, and the built-in renderer does the same.
    """
    text = markdown_table(df, formats, markdown, widths)
    if label and not caption:
        raise ValueError(f"table label {label!r} needs a caption (Quarto numbers captions)")
    tbl_id = table_label(caption, label) if caption else None
    if caption:
        text += f"\n\n: {escape_md(caption)} {{#{tbl_id}}}"
    if not is_html():
        return Markdown(text + "\n")
    if df.width < CARD_COLUMNS:
        return Markdown(f"::: {{.table-frame}}\n{text}\n:::\n")
    frame = card_frame_id(tbl_id)
    # The labels come first: the table and its caption stay the last blocks, as for any table.
    return Markdown(
        f"{card_labels(frame, df.columns)}\n::: {{#{frame} .table-frame .cards}}\n{text}\n:::\n"
    )


# A table this wide becomes stacked cards on a phone (site.css, `.cards`): one card a row,
# each cell under its column's name.
CARD_COLUMNS = 4
_CARD_FRAMES: list[str] = []  # one kernel renders one page in one format


def card_frame_id(tbl_id: str | None) -> str:
    """The id of a card table's frame: from its table label, else numbered on the page."""
    _CARD_FRAMES.append(tbl_id or "")
    return f"cards-{tbl_id}" if tbl_id else f"cards-{len(_CARD_FRAMES)}"


def card_labels(frame: str, columns: Sequence[str]) -> str:
    """The column names a card prints above each cell, as CSS for this table's frame.

    Pandoc's pipe tables give cells no attributes, so a `data-label` per cell would need a
    filter that Quarto and the built-in renderer would each have to run; a rule per column
    (`td:nth-child(n)::before`) works under both engines, from Markdown alone."""

    def css_string(text: str) -> str:
        # A CSS string: backslash, quote and "<" (which could end the style element) escaped.
        return '"' + re.sub(r'[\\"<]', lambda m: f"\\{ord(m[0]):x} ", text) + '"'

    rules = "".join(
        f"#{frame} td:nth-child({n})::before{{content:{css_string(name)}}}"
        for n, name in enumerate(columns, start=1)
    )
    return f"```{{=html}}\n<style>@media (max-width: 40rem){{{rules}}}</style>\n```\n"


_USED_LABELS: set[str] = set()  # one kernel renders one page in one format


def table_label(caption: str, label: str | None = None) -> str:
    """`label` (with `tbl-` added when missing), else a slug of the caption's first words.

    A page runs in its own kernel, so labels are unique per page: a repeated slug gets `-2`,
    `-3`, as Quarto requires one id per table.
    """
    if label:
        base = label if label.startswith("tbl-") else f"tbl-{label}"
        if not re.fullmatch(r"tbl-[A-Za-z0-9_-]+", base):
            raise ValueError(f"table label {label!r}: use letters, digits, - and _")
    else:
        ascii_text = unicodedata.normalize("NFKD", caption).encode("ascii", "ignore").decode()
        words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:6]
        base = "tbl-" + ("-".join(words) or "table")
    chosen, n = base, 1
    while chosen in _USED_LABELS:
        n += 1
        chosen = f"{base}-{n}"
    _USED_LABELS.add(chosen)
    return chosen


def chip(verdict: str) -> str:
    """A verdict as a coloured chip with its word (HTML); plain text in print."""
    word = escape_md(verdict)
    css = re.sub(r"[^a-z]", "", verdict.lower())
    return f"[{word}]{{.chip .{css}}}" if is_html() else word


class Chart:
    """An Altair chart as a cell output: Vega-Lite embed in HTML, SVG in the PDF.

    `name` names the CSV of the chart's data, written next to the tables so the site can offer
    the exact data behind the chart for download.
    """

    def __init__(
        self,
        chart: alt.TopLevelMixin,
        name: str,
        data: pl.DataFrame | None = None,
        alt_text: str | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.chart = chart
        self.name = name
        self.alt_text = alt_text
        if data is not None:
            if data_dir is None:
                raise ValueError("a chart with downloadable data needs the edition's data_dir")
            out = data_dir / CHART_DATA_DIR.relative_to("data")
            out.mkdir(parents=True, exist_ok=True)
            data.write_csv(out / f"{name}.csv")
            self.csv_href = f"{SITE_ROOT_FROM_PAGE}/{CHART_DATA_DIR.as_posix()}/{name}.csv"
        else:
            self.csv_href = None

    def spec(self) -> dict[str, Any]:
        # Altair's schema check costs a tenth of a second per chart, every render, and finds
        # nothing the tests do not: they validate every chart of the pages instead.
        return self.chart.to_dict(validate=False)

    def html(self) -> str:
        spec = json.dumps(self.spec(), sort_keys=True).replace("</", "<\\/")
        div = f"chart-{self.name}"
        aria = f' role="img" aria-label="{_attr(self.alt_text)}"' if self.alt_text else ""
        # The Vega bundle is loaded once per page, however many charts the page has. A single
        # view fills its frame through Vega-Lite's `width: "container"`; Vega-Lite cannot do
        # that for stacked panels, so those get the frame's width in pixels, are measured once
        # drawn and redrawn narrower if axes or legends pushed them past the frame.
        embed = (
            f'var el = document.getElementById("{div}");'
            f' var text = document.getElementById("{div}-spec").textContent;'
            ' var opts = {"actions": false, "renderer": "svg"};'
            " function widths(s, w) { if (!s || typeof s !== 'object') return;"
            " if (s.width === 'container') s.width = w;"
            " ['vconcat', 'hconcat', 'concat', 'layer'].forEach(function (k) {"
            " if (Array.isArray(s[k])) s[k].forEach(function (c) { widths(c, w); }); });"
            " if (s.spec) widths(s.spec, w); }"
            " function draw(w, tries) { var s = JSON.parse(text);"
            " var multi = s.vconcat || s.hconcat || s.concat || s.facet; if (multi) widths(s, w);"
            " return vegaEmbed(el, s, opts).then(function (r) {"
            " var svg = el.querySelector('svg'); if (!multi || !svg) return;"
            " var over = svg.getBoundingClientRect().width - el.clientWidth;"
            " if (over > 1 && tries > 0) { r.finalize(); return draw(w - over - 2, tries - 1); }"
            " }).catch(function (e) { console.error(e); }); }"
            " draw(Math.max(el.clientWidth - 70, 120), 3);"
            " var timer; window.addEventListener('resize', function () { clearTimeout(timer);"
            " timer = setTimeout(function () { draw(Math.max(el.clientWidth - 70, 120), 3); }, 200); });"
        )
        loader = (
            "(function () {"
            f" function draw() {{ {embed} }}"
            " if (window.vegaEmbed) { draw(); return; }"
            ' var s = document.getElementById("vega-bundle");'
            ' if (!s) { s = document.createElement("script"); s.id = "vega-bundle";'
            f' s.src = "{SITE_ROOT_FROM_PAGE}/{VEGA_BUNDLE}"; document.head.appendChild(s); }}'
            ' s.addEventListener("load", draw);'
            " })();"
        )
        parts = [
            f'<div class="chart" id="{div}"{aria}></div>',
            f'<script type="application/json" id="{div}-spec">{spec}</script>',
            f"<script>{loader}</script>",
        ]
        if self.csv_href:
            parts.append(
                f'<p class="chart-download"><a href="{self.csv_href}" download>'
                "Download the data behind this chart (CSV)</a></p>"
            )
        return "\n".join(parts)

    def svg(self) -> str:
        """The chart for print, at the width of the PDF's text column."""
        import vl_convert as vlc

        spec = _fixed_width(self.spec(), PRINT_WIDTH)
        if any(k in spec for k in ("vconcat", "hconcat", "concat")):
            # Stacked panels are drawn flatter on paper, so the main chart fits on the cover.
            spec = _scaled_heights(spec, PRINT_PANEL_HEIGHT_SCALE)
        return vlc.vegalite_to_svg(spec)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # Markdown holding a raw HTML block, not `text/html`: for a `text/html` output Quarto
        # adds require.js and jQuery from a CDN to the page; a raw block adds nothing, and its
        # script still runs. The built-in renderer splices it the same way.
        if is_html():
            return {"text/markdown": raw_block("html", self.html())}
        return {"image/svg+xml": self.svg()}


def raw_block(fmt: str, text: str) -> str:
    """A pandoc raw block (```{=html}) holding `text` unchanged; the fence is longer than any
    backtick run inside, so chart data cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{={fmt}}}\n{text}\n{fence}\n"


PRINT_WIDTH = 440  # px of plot area; axes and legends fit in the A4 text column beside it


def _fixed_width(spec: Any, width: int) -> Any:
    """`spec` with every `width: "container"` replaced by `width` (there is no container in
    print), recursing through layers, panels and facets."""
    if isinstance(spec, dict):
        out = {k: _fixed_width(v, width) for k, v in spec.items()}
        if out.get("width") == "container":
            out["width"] = width
        return out
    if isinstance(spec, list):
        return [_fixed_width(v, width) for v in spec]
    return spec


PRINT_PANEL_HEIGHT_SCALE = 0.45


def _scaled_heights(spec: Any, scale: float) -> Any:
    """`spec` with every numeric view `height` multiplied by `scale`."""
    if isinstance(spec, dict):
        out = {k: _scaled_heights(v, scale) for k, v in spec.items() if k != "data"}
        if "data" in spec:
            out["data"] = spec["data"]
        if isinstance(out.get("height"), (int, float)):
            out["height"] = round(out["height"] * scale)
        return out
    if isinstance(spec, list):
        return [_scaled_heights(v, scale) for v in spec]
    return spec


def _attr(text: str | None) -> str:
    from html import escape

    return escape(text or "", quote=True)


# Numbers and dates as a news desk writes them -------------------------------------------------

NBSP = "\u00a0"  # keeps "14 Nov" and "HK$956m" on one line
CURRENCY_SIGNS = {"USD": "US$", "HKD": "HK$", "CNY": "CN¥", "EUR": "€"}


def money(value: float | None, currency: str | None, digits: int = 2) -> str:
    """ "US$158.89", "−HK$956m", "HK$808bn": a minus sign, the currency's sign, and millions or
    billions for large amounts ("bn", never SI "G")."""
    if value is None:
        return "not available"
    sign = "−" if value < 0 else ""
    symbol = CURRENCY_SIGNS.get(currency or "", "")
    # A unit that is not a currency ("shares") follows the number.
    after = f" {currency}" if currency and currency not in CURRENCY_SIGNS else ""
    size = abs(value)
    for scale, suffix in ((1e12, "trn"), (1e9, "bn"), (1e6, "m")):
        if size >= scale:
            n = f"{size / scale:,.{0 if size / scale >= 100 else 1}f}".removesuffix(".0")
            return f"{sign}{symbol}{n}{suffix}{after}"
    return f"{sign}{symbol}{size:,.{digits}f}{after}"


def pct(value: float | None, digits: int = 1, signed: bool = True) -> str:
    """A fraction as a percentage with a real minus sign: 0.0526 -> "+5.3%"."""
    if value is None:
        return "not available"
    text = f"{value * 100:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "−")


def signed(value: float | None, digits: int = 1) -> str:
    """A signed number with a real minus sign ("t = −1.4")."""
    if value is None:
        return "not available"
    return f"{value:+.{digits}f}".replace("-", "−")


def day(value: Any, year: bool = False) -> str:
    """ "14 Nov" (or "14 Nov 2025"), with non-breaking spaces so a date never splits."""
    if value is None:
        return "undated"
    import datetime as dt

    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    text = f"{d.day} {d:%b}" + (f" {d.year}" if year else "")
    return text.replace(" ", NBSP)


def stars(p: float | None) -> str:
    """Significance stars: *** p < 0.001, ** p < 0.01, * p < 0.05."""
    if p is None:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _warm_print_engine() -> None:
    """In a print render, start vl-convert's JavaScript engine now, on a thread of its own.

    Its first chart otherwise waits about a third of a second for it. A page's kernel imports
    this module as soon as it is up, often while the page before still runs, so the wait is
    spent where nobody waits. Outside a render, or for HTML, nothing happens.
    """
    if not os.environ.get("QUARTO_EXECUTE_INFO") or is_html():
        return
    import threading

    import vl_convert as vlc

    warm = {"mark": "point", "data": {"values": []}}
    threading.Thread(target=vlc.vegalite_to_svg, args=(warm,), daemon=True).start()


_warm_print_engine()
