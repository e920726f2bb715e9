"""Quarto's `meta` shortcode for the built-in renderer: `{{< meta key >}}` in a page's text.

Quarto replaces `{{< meta key >}}` with the value of `key` in the page's metadata (its front
matter merged over `metadata-files`), so a page can show the edition stamp that the tables
step wrote to `data/processed/edition.yml` without running a cell: a page whose cells read
nothing that changed then starts no kernel at all (`pipeline.render.freeze`). Dotted keys
reach into mappings (`{{< meta a.b >}}`), and `{{{< meta key >}}}` is the escape that writes
the shortcode itself, both as in Quarto. No other shortcode is implemented: one left in a page
would be printed as text here while Quarto replaced it, so it stops the build instead.

The values are substituted into the Markdown before pandoc reads it. Quarto parses a metadata
string as Markdown too, so the two engines read the same text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

SHORTCODE = re.compile(
    r"(?P<escape>\{)?\{\{<\s*(?P<name>[\w-]+)(?P<args>(?:\s+[^\s>][^>]*?)?)\s*>\}\}(?(escape)\})"
)
SCALARS = (str, int, float, dt.date)  # bool is an int: YAML's true/false print as Quarto's


def resolve_shortcodes(text: str, meta: Mapping[str, Any], page: Path) -> str:
    """`text` with every `{{< meta key >}}` replaced by its value; an unknown shortcode or a
    missing or non-text key is an InputError naming the page and the line."""

    def replace(m: re.Match) -> str:
        if m["escape"]:
            return m[0][1:-1]  # {{{< meta x >}}} -> {{< meta x >}}, as Quarto writes it
        if m["name"] != "meta":
            raise InputError(
                f"shortcode {{{{< {m['name']} >}}}} is not supported by the built-in renderer "
                "(only `meta` is; see docs/rendering.md)",
                page,
                line_of(page, m[0]),
            )
        return str(meta_value(meta, m["args"].strip(), page, m[0]))

    return SHORTCODE.sub(replace, text)


def meta_value(meta: Mapping[str, Any], key: str, page: Path, shortcode: str) -> str:
    """The value of `key` (a name, or dotted names into mappings), as text."""
    value: Any = meta.get(key, None) if key else None
    if value is None and key:
        value = meta
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if value is None or not isinstance(value, SCALARS):
        what = "is missing" if value is None else f"is a {type(value).__name__}, not text"
        raise InputError(
            f"{shortcode}: metadata key {key!r} {what}",
            page,
            line_of(page, shortcode),
            fix="set it in the front matter or a `metadata-files` file (for the edition keys, "
            "run `make tables`)",
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def line_of(page: Path, snippet: str) -> int | None:
    """The 1-based line of the page where `snippet` first appears (for error messages)."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return None
    at = text.find(snippet)
    return text.count("\n", 0, at) + 1 if at >= 0 else None
