"""The Atom feed of published editions."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import polars as pl


def feed_xml(editions: pl.DataFrame, site_url: str, as_of: dt.date | None = None) -> str:
    """Atom feed of editions (as from `list_editions`), one entry per edition.

    Entry dates are the as-of dates, not wall-clock time, so the feed rebuilds byte-identically.
    A feed with no archived edition yet is dated by the current edition's `as_of` (Atom needs a
    date; 1970-01-01 told readers nothing).
    """
    atom = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", atom)
    base = site_url.rstrip("/") + "/"

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{atom}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    def stamp(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00:00Z"

    feed = ET.Element(f"{{{atom}}}feed")
    sub(feed, "title", "Alibaba risk briefing: editions")
    sub(feed, "id", base + "editions.xml")
    sub(feed, "link", href=base, rel="alternate")
    sub(feed, "link", href=base + "editions.xml", rel="self")
    newest = editions["as_of"].max() if editions.height else as_of
    sub(feed, "updated", stamp(newest) if newest else "1970-01-01T00:00:00Z")
    author = sub(feed, "author")
    sub(author, "name", "Briefing desk")
    for row in editions.iter_rows(named=True):  # one entry per edition: tiny, not a hot path
        entry = sub(feed, "entry")
        title = f"Edition {row['edition_id']} (as of {row['as_of'].isoformat()})"
        if row.get("corrects"):
            title += f", correcting {row['corrects']}"
        sub(entry, "title", title)
        sub(entry, "id", base + row["permalink"])
        sub(entry, "updated", stamp(row["as_of"]))
        sub(entry, "link", href=base + row["permalink"], rel="alternate", type="text/html")
        if row.get("pdf"):
            sub(entry, "link", href=base + row["pdf"], rel="enclosure", type="application/pdf")
        summary = f"Briefing edition as of {row['as_of'].isoformat()}."
        if row.get("corrects"):
            summary += f" Corrects edition {row['corrects']}."
            if row.get("note"):
                summary += f" {row['note']}"
        sub(entry, "summary", summary)
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
