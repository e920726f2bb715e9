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

# Report pages live in report/, one level below the site root, under both engines.
SITE_ROOT_FROM_PAGE = ".."
VEGA_BUNDLE = "libs/vega/vega-bundle.js"
CHART_DATA_DIR = Path("data") / "charts"  # inside processed dir and inside the site

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
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def code_md(text: object) -> str:
    """Untrusted text as an inline code span: literal in both formats, with a backtick fence
    longer than any run of backticks inside it."""
    flat = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


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


def markdown_table(df: pl.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A pipe table of `df` with every cell escaped; floats rounded by `formats` ("{:.2f}")."""
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
    widths = []
    for i, name in enumerate(df.columns):
        cells = [" ".join(c.split()) for c in (name, *(row[i] for row in body))]
        longest_word = max(len(word) for cell in cells for word in cell.split() or [""])
        widths.append(max(4, min(round(longest_word * 1.3), 24), min(max(map(len, cells)), 36)))
    rule = [
        "-" * (w - 1) + ":" if df[c].dtype.is_numeric() else ":" + "-" * (w - 1)
        for c, w in zip(df.columns, widths, strict=True)
    ]
    lines = [[escape_md(c) for c in row] for row in [list(df.columns), *body]]
    text = ["| " + " | ".join(cells) + " |" for cells in lines]
    text.insert(1, "|" + "|".join(rule) + "|")
    return "\n".join(text)


def table(
    df: pl.DataFrame,
    caption: str | None = None,
    formats: dict[str, str] | None = None,
    *,
    label: str | None = None,
) -> Markdown:
    """Show a table in either format; the caption becomes a labelled pandoc table caption.

    A captioned table always carries a `tbl-` label (`: caption {#tbl-x}`), made from the
    caption unless `label=` names it: Quarto drops unlabelled captions from Typst output
    (quarto-cli #11733) and numbers labelled ones, and the built-in renderer does the same.
    """
    text = markdown_table(df, formats)
    if label and not caption:
        raise ValueError(f"table label {label!r} needs a caption (Quarto numbers captions)")
    if caption:
        text += f"\n\n: {escape_md(caption)} {{#{table_label(caption, label)}}}"
    return Markdown(text + "\n")


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
        return self.chart.to_dict()

    def html(self) -> str:
        spec = json.dumps(self.spec(), sort_keys=True).replace("</", "<\\/")
        div = f"chart-{self.name}"
        aria = f' role="img" aria-label="{_attr(self.alt_text)}"' if self.alt_text else ""
        # The Vega bundle is loaded once per page, however many charts the page has.
        embed = (
            f'vegaEmbed("#{div}", JSON.parse(document.getElementById("{div}-spec").textContent),'
            ' {"actions": false, "renderer": "svg"}).catch(function (e) { console.error(e); });'
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
        import vl_convert as vlc

        return vlc.vegalite_to_svg(self.spec())

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


def _attr(text: str | None) -> str:
    from html import escape

    return escape(text or "", quote=True)


def bullet_list(items: Sequence[str]) -> Markdown:
    """Markdown bullets from already-safe Markdown strings."""
    return Markdown("\n".join(f"- {item}" for item in items) + "\n")
