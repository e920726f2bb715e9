"""Sending an edition: one message per reader, at most once, with refusals before anything goes.

Dry run is the default and writes `.eml` files to an outbox. Real sending goes through the
ledger (`ledger.py`) so that re-running after a crash or a partial failure sends only what is
missing. Before the first message, everything a reader would notice is checked: the site
address the links point at (no placeholder when really sending), the unsubscribe address and
the whole recipients file.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.editions.archive import edition_path
from pipeline.editions.mail.ledger import Ledger
from pipeline.editions.mail.message import (
    MAX_MESSAGE_BYTES,
    EditionMail,
    build_message,
    load_edition,
)
from pipeline.editions.mail.recipients import EMAIL, Recipient, read_recipients
from pipeline.editions.mail.smtp import Connection, Permanent, SmtpSettings, classify
from pipeline.errors import InputError

log = logging.getLogger(__name__)

# Hosts that are reserved never to resolve (RFC 2606 / RFC 6761): links to them go nowhere.
PLACEHOLDER_SUFFIXES = (".invalid", ".example", ".localhost", ".local")
PLACEHOLDER_HOSTS = {"", "localhost", "example.com", "example.org", "example.net"}
DRY_RUN_SENDER = "briefing@example.invalid"


@dataclass
class RecipientResult:
    email: str
    name: str
    status: str  # written | sent | already_sent | uncertain | failed
    attempts: int = 0
    error: str | None = None


@dataclass
class DeliveryReport:
    edition_id: str
    dry_run: bool
    results: list[RecipientResult] = field(default_factory=list)
    outbox_files: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what the reader of the CLI must know

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        return not any(r.status in ("failed", "uncertain") for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        """Per-recipient lines for the CLI; no secrets, only addresses and SMTP replies."""
        mode = "dry run (no email sent)" if self.dry_run else "send"
        counts = ", ".join(
            f"{s}: {self.count(s)}"
            for s in ("written", "sent", "already_sent", "uncertain", "failed")
            if self.count(s)
        )
        lines = [f"edition {self.edition_id}, {mode}: {counts or 'nothing to do'}"]
        lines += [
            f"  {r.status}: {r.email}" + (f" ({r.error})" if r.error else "")
            for r in self.results
            if r.status in ("failed", "uncertain")
        ]
        if self.outbox_files:
            lines.append(f"  outbox: {self.outbox_files[0].parent}")
        lines += [f"  note: {n}" for n in self.notices]
        return "\n".join(lines)


def _outbox_name(index: int, email: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._@-]", "_", email.lower())
    return f"{index:03d}-{safe}.eml"


def check_site_url(site_url: str, sending: bool) -> str | None:
    """Refuse links that go nowhere when really sending; in a dry run, say so instead."""
    if not re.match(r"^https?://", site_url or ""):
        raise InputError(
            f"site URL {site_url!r} must start with http:// or https://",
            fix="export BRIEFING_SITE_URL=https://your.host/alibaba-briefing/",
        )
    host = (urlsplit(site_url).hostname or "").lower()
    if host not in PLACEHOLDER_HOSTS and not host.endswith(PLACEHOLDER_SUFFIXES):
        return None
    problem = (
        f"BRIEFING_SITE_URL is unset or a placeholder ({site_url}): "
        "the messages' links would lead nowhere"
    )
    if sending:
        raise InputError(
            problem,
            fix="export BRIEFING_SITE_URL=https://your.host/alibaba-briefing/ "
            "(the address the site is published at), then send again",
        )
    return problem + "; set BRIEFING_SITE_URL before sending"


def unsubscribe_address(unsubscribe: str | None, from_addr: str) -> str:
    """The `List-Unsubscribe` mailbox: BRIEFING_SMTP_UNSUBSCRIBE, else the sender."""
    address = (unsubscribe or "").strip().removeprefix("mailto:") or from_addr
    if not EMAIL.match(address):
        raise InputError(
            f"BRIEFING_SMTP_UNSUBSCRIBE={address!r} is not an email address",
            fix="export BRIEFING_SMTP_UNSUBSCRIBE=unsubscribe@your.domain",
        )
    return address


def recipients_file_for(path: Path, sending: bool) -> tuple[Path, str | None]:
    """The recipients file; a dry run without one uses the example next to it, and says so.

    Sending never falls back: the example's addresses are not real readers.
    """
    path = Path(path)
    example = path.with_name("stakeholders.example.csv")
    if sending or path.is_file() or not example.is_file():
        return path, None
    return example, f"{path.name} not found: the dry run used {example.name}"


def language_notices(recipients: list[Recipient]) -> list[str]:
    return [
        f"{r.email} (line {r.line}) asked for {r.asked!r}, which has no email template yet: "
        f"sending {r.language}"
        for r in recipients
        if r.asked
    ]


@dataclass
class Composer:
    """Builds each reader's message with the run's shared settings; remembers PDF links."""

    edition: EditionMail
    from_addr: str
    site_url: str
    unsubscribe: str
    permalink: str | None
    now: dt.datetime | None
    max_bytes: int
    linked: list[str] = field(default_factory=list)

    def __call__(self, r: Recipient) -> EmailMessage:
        msg, attached = build_message(
            self.edition,
            r,
            from_addr=self.from_addr,
            site_url=self.site_url,
            unsubscribe=self.unsubscribe,
            permalink=self.permalink,
            now=self.now,
            max_bytes=self.max_bytes,
        )
        if not attached:
            self.linked.append(r.email)
        return msg

    def notices(self) -> list[str]:
        if not self.linked:
            return []
        size = len(self.edition.pdf_bytes) / 1e6
        return [
            f"the PDF ({size:.1f} MB) would make the message larger than "
            f"{self.max_bytes / 1024 / 1024:.0f} MB: linked, not attached, for "
            f"{len(self.linked)} recipient(s)"
        ]


def send_edition(
    site_dir: Path,
    recipients_file: Path,
    outbox: Path,
    *,
    send: bool,
    smtp: SmtpSettings | None,
    site_url: str,
    ledger_path: Path,
    permalink: str | None = None,
    unsubscribe: str | None = None,
    max_attempts: int = 4,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    resend_uncertain: bool = False,
    now: dt.datetime | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> DeliveryReport:
    """Deliver the built edition in `site_dir` to every recipient, or write `.eml` files.

    Everything is checked before the first message: the site URL (a placeholder is refused
    when sending), the unsubscribe address, the edition and the whole recipients file. Dry
    run (`send=False`) writes `<outbox>/<edition_id>/NNN-<email>.eml` and touches no ledger.
    Sending retries transient errors up to `max_attempts` with exponential backoff, reports
    permanent ones per recipient, and stops early on a failure that affects everyone.
    """
    url_notice = check_site_url(site_url, sending=send)
    if send and smtp is None:
        raise InputError("sending needs SMTP settings", fix="set the BRIEFING_SMTP_* variables")
    from_addr = smtp.from_addr if smtp else os.environ.get("BRIEFING_SMTP_FROM") or DRY_RUN_SENDER
    unsubscribe = unsubscribe_address(unsubscribe, from_addr)
    edition = load_edition(site_dir)
    recipients_file, file_notice = recipients_file_for(recipients_file, sending=send)
    recipients = read_recipients(recipients_file)
    report = DeliveryReport(edition.edition_id, dry_run=not send)
    report.notices += [n for n in (url_notice, file_notice) if n]
    report.notices += language_notices(recipients)
    compose = Composer(edition, from_addr, site_url, unsubscribe, permalink, now, max_bytes)
    if send:
        retry = (max_attempts, backoff, sleep)
        ledger = Ledger(ledger_path)
        _send_all(report, recipients, compose, smtp, ledger, resend_uncertain, retry)
    else:
        _write_outbox(report, recipients, compose, Path(outbox))
    report.notices += compose.notices()
    return report


def _write_outbox(report, recipients, message, outbox: Path) -> None:
    folder = edition_path(outbox, report.edition_id)
    folder.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(recipients, start=1):
        path = folder / _outbox_name(i, r.email)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(message(r).as_bytes())
        os.replace(tmp, path)
        report.outbox_files.append(path)
        report.results.append(RecipientResult(r.email, r.name, "written"))


def _send_all(report, recipients, message, smtp, ledger: Ledger, resend_uncertain, retry) -> None:
    """Each recipient not yet sent, in order; a fatal failure marks the rest not attempted."""
    state = ledger.state(report.edition_id)
    conn = Connection(smtp)
    fatal: str | None = None
    try:
        for r in recipients:
            status = state.get(r.email.lower())
            if status == "sent":
                report.results.append(RecipientResult(r.email, r.name, "already_sent"))
            elif status == "sending" and not resend_uncertain:
                report.results.append(
                    RecipientResult(
                        r.email,
                        r.name,
                        "uncertain",
                        error="an earlier run stopped while sending; check the mailbox or server "
                        "log, then re-run with resend_uncertain to send again",
                    )
                )
            elif fatal is not None:
                report.results.append(RecipientResult(r.email, r.name, "failed", error=fatal))
            else:
                result, is_fatal = _deliver(
                    conn, ledger, report.edition_id, r, message(r), smtp, *retry
                )
                report.results.append(result)
                if is_fatal:
                    fatal = f"not attempted after an earlier error: {result.error}"
    finally:
        conn.reset()
    for r in report.results:
        if r.status == "failed":
            log.error("not delivered to %s: %s", r.email, r.error)


def _deliver(
    conn: Connection,
    ledger: Ledger,
    edition_id: str,
    r: Recipient,
    msg: EmailMessage,
    smtp: SmtpSettings,
    max_attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> tuple[RecipientResult, bool]:
    """Send one message with retries; return the result and whether the failure is fatal.

    Each attempt is bracketed in the ledger: "sending" before, then "sent", "deferred"
    (transient, not accepted) or "failed". A crash leaves "sending" last: uncertain.
    """
    base = {"edition_id": edition_id, "email": r.email.lower(), "message_id": msg["Message-ID"]}
    last = ""
    for attempt in range(1, max_attempts + 1):
        ledger.append(**base, status="sending", attempt=attempt, at=_now())
        try:
            conn.get().send_message(msg, from_addr=smtp.from_addr, to_addrs=[r.email])
        except Exception as exc:  # every SMTP/socket error is classified below
            conn.reset()
            kind = classify(exc, r.email)
            last = str(kind)
            if isinstance(kind, Permanent):
                ledger.append(**base, status="failed", error=last, at=_now())
                return RecipientResult(r.email, r.name, "failed", attempt, last), kind.fatal
            ledger.append(**base, status="deferred", error=last, at=_now())
            log.warning(
                "transient failure for %s (attempt %d/%d): %s", r.email, attempt, max_attempts, last
            )
            if attempt < max_attempts:
                sleep(backoff * 2 ** (attempt - 1))
            continue
        ledger.append(**base, status="sent", at=_now())
        log.info("sent %s to %s", edition_id, r.email)
        return RecipientResult(r.email, r.name, "sent", attempt), False
    error = f"gave up after {max_attempts} attempts: {last}"
    ledger.append(**base, status="failed", error=error, at=_now())
    return RecipientResult(r.email, r.name, "failed", max_attempts, error), False


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
