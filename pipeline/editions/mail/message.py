"""One reader's message: the story in their language, the chart inline, the PDF attached.

The built site is the source: `manifest.json` for the edition, `data/*.parquet` (the tables
the site ships for download) for the story, and the edition-named PDF. Nothing here writes a
sentence: `email_context` supplies numbers and names, the reader's word template the words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

from pipeline.editions.archive import site_manifest
from pipeline.editions.mail.chart import COLOURS, chart_png, chart_spec, png_width
from pipeline.editions.mail.context import email_context
from pipeline.editions.mail.recipients import Recipient
from pipeline.editions.mail.words import environment, percent, words
from pipeline.errors import InputError
from pipeline.tables import load_tables

CHART_CID = "price-chart@briefing"
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # many providers refuse larger messages
BRIEFING_PAGE = "report/"


@dataclass(frozen=True)
class EditionMail:
    """What every message of one edition shares: its id, its story's context and its PDF."""

    edition_id: str
    as_of: str
    pdf_name: str
    pdf_bytes: bytes
    context: dict[str, Any]
    published: bool = False  # the site carries this edition's permanent page


def load_edition(site_dir: Path) -> EditionMail:
    """Read the built site's manifest, tables and PDF; anything missing names the file."""
    site_dir = Path(site_dir)
    manifest = site_manifest(site_dir)
    edition_id, as_of = manifest["edition_id"], manifest.get("as_of")
    if not as_of:
        raise InputError(
            "manifest has no as_of date",
            site_dir / "manifest.json",
            fix="rebuild the edition: make report",
        )
    pdf = site_dir / f"alibaba-briefing-{edition_id}.pdf"
    if not pdf.is_file():
        raise InputError("the edition's PDF is missing", pdf, fix="rebuild: make report")
    tables = load_tables(site_dir / "data")
    context = email_context(tables, {"edition_id": edition_id, "as_of": as_of})
    published = (site_dir / "editions" / edition_id).is_dir()
    return EditionMail(edition_id, as_of, pdf.name, pdf.read_bytes(), context, published)


def message_id(edition_id: str, email: str, domain: str) -> str:
    """Stable per recipient and edition, so a mail client can spot a duplicate delivery."""
    tag = hashlib.sha256(f"{edition_id}\0{email.lower()}".encode()).hexdigest()[:16]
    return f"<briefing.{edition_id}.{tag}@{domain}>"


def key_numbers(w: Any, ctx: dict[str, Any], language: str) -> list[dict[str, str]]:
    """The three figures under the lede: the headline change, the biggest move, the claims."""
    out = []
    if ctx["lead"]:
        out.append(
            {
                "value": percent(ctx["lead"]["change"], locale=language),
                "label": w.ytd_label(ctx["lead"]),
            }
        )
    if ctx["move"]:
        out.append(
            {
                "value": percent(ctx["move"]["abnormal_ret"], locale=language),
                "label": w.move_label(),
            }
        )
    if ctx["n_claims"]:
        out.append({"value": w.claims_value(), "label": w.claims_label()})
    return [
        {**n, "colour": COLOURS[i % len(COLOURS)] if i < 2 else "#555555"}
        for i, n in enumerate(out)
    ]


def chart_for(w: Any, ctx: dict[str, Any], language: str) -> bytes | None:
    """The price chart's PNG, labelled in the reader's language; None without prices."""
    if not ctx["series"]:
        return None
    labels = {row["instrument"]: str(w.chart_series(row)) for row in ctx["ytd"]}
    return chart_png(chart_spec(ctx["series"], labels, str(w.chart_axis())), language)


def render_parts(
    edition: EditionMail, recipient: Recipient, links: dict[str, Any], pdf: dict[str, Any]
) -> tuple[str, str, str, bytes | None]:
    """(subject, plain text, HTML, chart PNG) for one reader, all from one word template."""
    language = recipient.language
    ctx = {
        **edition.context,
        **links,
        "pdf": pdf,
        "language": language,
        "locale": language,
        "greeting_name": recipient.display_name,
        "salutation": recipient.salutation,
    }
    w = words(language, ctx)
    png = chart_for(w, ctx, language)
    ctx |= {
        "numbers": key_numbers(w, ctx, language),
        "chart": {"cid": CHART_CID, "width": png_width(png)} if png else None,
    }
    env = environment()
    text = env.get_template("email.txt.j2").render(ctx)
    html = env.get_template("email.html.j2").render(ctx)
    # Python's header folding treats a no-break space as a fold point: plain spaces in Subject.
    subject = oneline(str(w.subject())).replace("\u00a0", " ")
    return subject, text, html, png


def links_for(edition: EditionMail, site_url: str, permalink: str | None) -> dict[str, Any]:
    base = site_url if site_url.endswith("/") else site_url + "/"
    if permalink is None and edition.published:
        permalink = f"{base}editions/{edition.edition_id}/"
    return {"site_url": base, "page_url": base + BRIEFING_PAGE, "permalink": permalink}


def build_message(
    edition: EditionMail,
    recipient: Recipient,
    *,
    from_addr: str,
    site_url: str,
    unsubscribe: str,
    permalink: str | None = None,
    now: dt.datetime | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> tuple[EmailMessage, bool]:
    """One reader's message and whether the PDF is attached (else linked: too big to send)."""
    links = {**links_for(edition, site_url, permalink), "unsubscribe": unsubscribe}
    pdf = {
        "attached": True,
        "size_mb": len(edition.pdf_bytes) / 1e6,
        "url": links["site_url"] + edition.pdf_name,
    }
    msg = _assemble(edition, recipient, links, pdf, from_addr, now)
    if len(msg.as_bytes()) <= max_bytes:
        return msg, True
    return _assemble(edition, recipient, links, {**pdf, "attached": False}, from_addr, now), False


def _assemble(edition, recipient, links, pdf, from_addr, now) -> EmailMessage:
    """Headers, then text | (HTML + inline chart) alternatives, then the PDF if attached."""
    subject, text, html, png = render_parts(edition, recipient, links, pdf)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = from_addr
    msg["To"] = formataddr((recipient.display_name, recipient.email))
    msg["Date"] = formatdate((now or dt.datetime.now(dt.UTC)).timestamp(), usegmt=True)
    domain = from_addr.rpartition("@")[2].strip(">") or "briefing.invalid"
    msg["Message-ID"] = message_id(edition.edition_id, recipient.email, domain)
    msg["List-Unsubscribe"] = f"<mailto:{links['unsubscribe']}?subject=unsubscribe>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if png:
        html_part = msg.get_payload()[1]
        html_part.add_related(
            png, maintype="image", subtype="png", cid=f"<{CHART_CID}>", disposition="inline"
        )
    if pdf["attached"]:
        msg.add_attachment(
            edition.pdf_bytes, maintype="application", subtype="pdf", filename=edition.pdf_name
        )
    msg["Content-Language"] = recipient.language  # after the parts: set_content drops it
    return msg


def oneline(text: str) -> str:
    """Collapse the templates' line breaks and indents into single spaces."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()  # not \s: keep no-break spaces
