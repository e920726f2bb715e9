"""Email delivery of an edition: one message per stakeholder, PDF attached, sent at most once.

Dry run is the default and writes `.eml` files to an outbox. Real sending goes through a
ledger (JSON lines, one record per step, fsync'd) so that re-running after a crash or a
partial failure sends only what is missing. A record "sending" without a matching "sent"
means the process died mid-transaction: delivery is uncertain, so it is reported and not
repeated unless the caller asks (`resend_uncertain=True`) after checking.

SMTP secrets come from the environment or a file; they are never logged, put in errors,
written to the ledger or shown by `repr`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

import jinja2

from pipeline.editions.archive import edition_path, site_manifest
from pipeline.errors import InputError

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
RECIPIENT_COLUMNS = ("name", "email", "language")

# Labels per recipient language; the findings themselves are in the edition's language.
LABELS = {
    "en": {
        "subject": "Alibaba risk briefing, edition {edition_id} (as of {as_of})",
        "greeting": "Dear {name},",
        "intro": "The briefing edition {edition_id}, with data as of {as_of}, is attached as a PDF.",
        "findings": "Key findings",
        "no_findings": "The key findings of this edition were not available when this message "
        "was prepared; please see the attached PDF.",
        "site": "Read it online",
        "edition_link": "This edition's permanent page",
        "footer": "You receive this briefing as a stakeholder of the newsroom's risk desk.",
    },
    "de": {
        "subject": "Alibaba-Risikobriefing, Ausgabe {edition_id} (Stand {as_of})",
        "greeting": "Guten Tag {name},",
        "intro": "anbei als PDF die Briefing-Ausgabe {edition_id} mit Daten bis {as_of}.",
        "findings": "Wichtigste Ergebnisse",
        "no_findings": "Die wichtigsten Ergebnisse dieser Ausgabe lagen beim Erstellen dieser "
        "Nachricht nicht vor; siehe das angehängte PDF.",
        "site": "Online lesen",
        "edition_link": "Dauerhafte Seite dieser Ausgabe",
        "footer": "Sie erhalten dieses Briefing als Ansprechpartner des Risiko-Desks.",
    },
}


# --------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    language: str


def read_recipients(path: Path) -> list[Recipient]:
    """Read and validate the recipients CSV (name,email,language); errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "recipients file not found",
            path,
            fix="copy stakeholders.example.csv to stakeholders.csv and fill it in",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"recipients file is not UTF-8 ({exc.reason})", path, fix="save the file as UTF-8 CSV"
        ) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != list(RECIPIENT_COLUMNS):
        raise InputError(
            f"header must be exactly {','.join(RECIPIENT_COLUMNS)} (got {header})",
            path,
            line=1,
            fix="see stakeholders.example.csv for the format",
        )
    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != len(RECIPIENT_COLUMNS):
            raise InputError(
                f"expected 3 fields (name,email,language), found {len(row)}",
                path,
                line=line,
                fix="quote names that contain commas",
            )
        name, email, language = (cell.strip() for cell in row)
        if not name:
            raise InputError("name is empty", path, line=line)
        if not EMAIL.match(email):
            raise InputError(
                f"{email!r} is not an email address",
                path,
                line=line,
                fix="use the form someone@example.org",
            )
        language = language.lower()
        if language not in LABELS:
            raise InputError(
                f"language {language!r} is not supported",
                path,
                line=line,
                fix=f"use one of: {', '.join(sorted(LABELS))}",
            )
        key = email.lower()
        if key in seen:
            raise InputError(
                f"{email} is listed twice (first on line {seen[key]})",
                path,
                line=line,
                fix="keep one line per recipient",
            )
        seen[key] = line
        recipients.append(Recipient(name, email, language))
    if not recipients:
        raise InputError(
            "recipients file lists nobody",
            path,
            fix="add one line per recipient: name,email,language",
        )
    return recipients


# --------------------------------------------------------------------------- SMTP settings


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. `password` is kept out of `repr` so it cannot reach a log."""

    host: str
    port: int
    security: str
    from_addr: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read BRIEFING_SMTP_* variables; errors name the variable, never its secret value."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(f"BRIEFING_SMTP_{name}", "").strip()
            return value or None

        host = get("HOST")
        if host is None:
            raise InputError(
                "BRIEFING_SMTP_HOST is not set",
                fix="export BRIEFING_SMTP_HOST=smtp.example.org (see docs/editions.md)",
            )
        security = (get("SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise InputError(
                f"BRIEFING_SMTP_SECURITY={security!r} is not supported",
                fix=f"use one of: {', '.join(SECURITY_MODES)}",
            )
        port_text = get("PORT")
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS[security]
        except ValueError:
            raise InputError(
                f"BRIEFING_SMTP_PORT={port_text!r} is not a number",
                fix="e.g. 587 for starttls, 465 for ssl",
            ) from None
        if not 0 < port < 65536:
            raise InputError(f"BRIEFING_SMTP_PORT={port} is out of range", fix="e.g. 587")
        from_addr = get("FROM")
        if from_addr is None or not EMAIL.match(from_addr):
            raise InputError(
                "BRIEFING_SMTP_FROM must be the sender address",
                fix="export BRIEFING_SMTP_FROM=briefing@example.org",
            )
        user = get("USER")
        password = env.get("BRIEFING_SMTP_PASSWORD") or None
        password_file = get("PASSWORD_FILE")
        if password and password_file:
            raise InputError(
                "both BRIEFING_SMTP_PASSWORD and BRIEFING_SMTP_PASSWORD_FILE are set",
                fix="set only one of them",
            )
        if password_file:
            pf = Path(password_file)
            try:
                password = pf.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise InputError(
                    f"cannot read the SMTP password file ({exc.strerror})",
                    pf,
                    fix="point BRIEFING_SMTP_PASSWORD_FILE at a readable file",
                ) from None
            if not password:
                raise InputError("the SMTP password file is empty", pf)
        if password and not user:
            raise InputError(
                "an SMTP password is set but BRIEFING_SMTP_USER is not",
                fix="export BRIEFING_SMTP_USER=...",
            )
        if user and not password:
            raise InputError(
                "BRIEFING_SMTP_USER is set but no password",
                fix="set BRIEFING_SMTP_PASSWORD or BRIEFING_SMTP_PASSWORD_FILE",
            )
        if user and security == "none":
            raise InputError(
                "refusing to send an SMTP password without TLS",
                fix="set BRIEFING_SMTP_SECURITY=starttls or ssl",
            )
        ca = get("CA_FILE")
        return cls(
            host=host,
            port=port,
            security=security,
            from_addr=from_addr,
            user=user,
            password=password,
            ca_file=Path(ca) if ca else None,
        )

    def tls_context(self) -> ssl.SSLContext:
        """Verifying TLS context; `ca_file` (BRIEFING_SMTP_CA_FILE) trusts a private CA."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


# --------------------------------------------------------------------------- the edition


@dataclass(frozen=True)
class EditionMail:
    """What every message of one edition shares: id, date, PDF bytes and findings."""

    edition_id: str
    as_of: str
    pdf_name: str
    pdf_bytes: bytes
    findings: list[str] | None


def load_edition(site_dir: Path) -> EditionMail:
    """Read the built site's manifest, PDF and key findings (findings may be absent)."""
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
    findings_path = site_dir / "key_findings.json"
    findings = None
    if findings_path.is_file():
        try:
            findings = json.loads(findings_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg})",
                findings_path,
                line=exc.lineno,
                fix="rebuild: make report",
            ) from None
        if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
            raise InputError(
                "key findings must be a JSON list of strings",
                findings_path,
                fix="rebuild: make report",
            )
    else:
        log.warning(
            "%s not found; the message will say the findings are unavailable", findings_path
        )
    return EditionMail(edition_id, as_of, pdf.name, pdf.read_bytes(), findings)


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def message_id(edition_id: str, email: str) -> str:
    """Stable per recipient and edition, so mail clients can spot any duplicate."""
    tag = hashlib.sha256(f"{edition_id}\0{email.lower()}".encode()).hexdigest()[:16]
    return f"<briefing.{edition_id}.{tag}@briefing.invalid>"


def build_message(
    edition: EditionMail,
    recipient: Recipient,
    *,
    from_addr: str,
    site_url: str,
    permalink: str | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """One recipient's message: text and HTML alternatives plus the PDF, byte for byte."""
    labels = {
        k: v.format(edition_id=edition.edition_id, as_of=edition.as_of, name=recipient.name)
        for k, v in LABELS[recipient.language].items()
    }
    context = {
        "t": labels,
        "findings": edition.findings,
        "site_url": site_url,
        "permalink": permalink,
        "recipient": recipient,
        "edition_id": edition.edition_id,
        "as_of": edition.as_of,
    }
    msg = EmailMessage()
    msg["Subject"] = labels["subject"]
    msg["From"] = from_addr
    msg["To"] = formataddr((recipient.name, recipient.email))
    msg["Date"] = formatdate((now or dt.datetime.now(dt.UTC)).timestamp(), usegmt=True)
    msg["Message-ID"] = message_id(edition.edition_id, recipient.email)
    msg["Content-Language"] = recipient.language
    msg.set_content(_env.get_template("email.txt.j2").render(context))
    msg.add_alternative(_env.get_template("email.html.j2").render(context), subtype="html")
    msg.add_attachment(
        edition.pdf_bytes, maintype="application", subtype="pdf", filename=edition.pdf_name
    )
    return msg


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """Append-only JSON lines: {edition_id, email, status, ...}; fsync'd after every record."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def state(self, edition_id: str) -> dict[str, str]:
        """Latest status per (lowercased) email for one edition."""
        latest: dict[str, str] = {}
        if not self.path.is_file():
            return latest
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key, status = rec["email"].lower(), rec["status"]
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                if number == len(lines):  # torn last write of a crashed run: ignore it
                    log.warning("%s:%d: ignoring an incomplete last record", self.path, number)
                    continue
                raise InputError(
                    "damaged ledger record",
                    self.path,
                    line=number,
                    fix="repair or remove that line; never delete 'sent' records",
                ) from None
            if rec.get("edition_id") == edition_id:
                latest[key] = status
        return latest

    def append(self, **record: object) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        with self.path.open("a+b") as fh:
            self._drop_torn_tail(fh)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def _drop_torn_tail(self, fh) -> None:
        """Cut a partial last line left by a crash, so every stored line is a whole record."""
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(0)
        raw = fh.read()
        if raw.endswith(b"\n"):
            return
        keep = raw.rfind(b"\n") + 1
        log.warning("%s: removing an incomplete last record %r", self.path, raw[keep:][:80])
        fh.truncate(keep)
        fh.seek(keep)


# --------------------------------------------------------------------------- sending


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
        return "\n".join(lines)


class _Permanent(Exception):
    """A failure retrying cannot fix; `fatal` ones (auth, sender, TLS) stop the whole run."""

    def __init__(self, text: str, fatal: bool = False) -> None:
        super().__init__(text)
        self.fatal = fatal


class _Transient(Exception):
    pass


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


def _classify(exc: Exception, email: str) -> Exception:
    """Map smtplib errors to transient (retry) or permanent (report) failures."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _Permanent(
            f"authentication failed: {_reply(exc.smtp_code, exc.smtp_error)}", fatal=True
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = exc.recipients.get(email, (550, b"refused"))
        reply = _reply(code, text)
        return _Transient(reply) if 400 <= code < 500 else _Permanent(f"address refused: {reply}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return (
            _Transient(reply)
            if 400 <= exc.smtp_code < 500
            else _Permanent(f"sender refused: {reply}", fatal=True)
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _Permanent(f"server does not support this: {exc}", fatal=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return _Transient(reply) if 400 <= exc.smtp_code < 500 else _Permanent(reply)
    if isinstance(exc, ssl.SSLError):  # before OSError: a bad certificate will not heal
        return _Permanent(f"TLS failed: {exc.__class__.__name__}: {exc.reason}", fatal=True)
    if isinstance(exc, smtplib.SMTPException) and not isinstance(
        exc, smtplib.SMTPServerDisconnected
    ):
        return _Permanent(f"{exc.__class__.__name__}: {exc}", fatal=True)
    if isinstance(exc, OSError):
        return _Transient(f"connection problem: {exc.__class__.__name__}: {exc}")
    return _Permanent(f"{exc.__class__.__name__}: {exc}")


class _Connection:
    """One SMTP session reused across recipients, reopened after a transient failure."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.settings = smtp
        self.client: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.client is None:
            s = self.settings
            if s.security == "ssl":
                client = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=s.tls_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            client.set_debuglevel(0)  # debug output would include the AUTH exchange
            try:
                client.ehlo()
                if s.security == "starttls":
                    client.starttls(context=s.tls_context())
                    client.ehlo()
                if s.user:
                    client.login(s.user, s.password or "")
            except BaseException:
                self._drop(client)
                raise
            self.client = client
        return self.client

    @staticmethod
    def _drop(client: smtplib.SMTP) -> None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def reset(self) -> None:
        if self.client is not None:
            self._drop(self.client)
            self.client = None


def _outbox_name(index: int, email: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._@-]", "_", email.lower())
    return f"{index:03d}-{safe}.eml"


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
    max_attempts: int = 4,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    resend_uncertain: bool = False,
    now: dt.datetime | None = None,
) -> DeliveryReport:
    """Deliver the built edition in `site_dir` to every recipient, or write `.eml` files.

    Dry run (`send=False`) writes `<outbox>/<edition_id>/NNN-<email>.eml` and touches no
    ledger. Sending retries transient errors up to `max_attempts` with exponential backoff
    (`backoff`, 2x, 4x ... seconds through `sleep`), reports permanent ones per recipient, and
    stops early on a failure that affects everyone (authentication, sender, TLS).
    """
    if not re.match(r"^https?://", site_url or ""):
        raise InputError(
            f"site URL {site_url!r} must start with http:// or https://",
            fix="pass the published site's address, e.g. --site-url https://...",
        )
    edition = load_edition(site_dir)
    recipients = read_recipients(recipients_file)
    report = DeliveryReport(edition.edition_id, dry_run=not send)
    from_addr = smtp.from_addr if smtp else "briefing@example.invalid"

    def message(r: Recipient) -> EmailMessage:
        return build_message(
            edition, r, from_addr=from_addr, site_url=site_url, permalink=permalink, now=now
        )

    if not send:
        folder = edition_path(Path(outbox), edition.edition_id)
        folder.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(recipients, start=1):
            path = folder / _outbox_name(i, r.email)
            tmp = path.with_suffix(".eml.tmp")
            tmp.write_bytes(message(r).as_bytes())
            os.replace(tmp, path)
            report.outbox_files.append(path)
            report.results.append(RecipientResult(r.email, r.name, "written"))
        return report

    if smtp is None:
        raise InputError("sending needs SMTP settings", fix="set the BRIEFING_SMTP_* variables")
    ledger = Ledger(ledger_path)
    state = ledger.state(edition.edition_id)
    conn = _Connection(smtp)
    fatal: str | None = None
    try:
        for r in recipients:
            key = r.email.lower()
            status = state.get(key)
            if status == "sent":
                report.results.append(RecipientResult(r.email, r.name, "already_sent"))
                continue
            if status == "sending" and not resend_uncertain:
                report.results.append(
                    RecipientResult(
                        r.email,
                        r.name,
                        "uncertain",
                        error="an earlier run stopped while sending; check the mailbox or server "
                        "log, then re-run with resend_uncertain to send again",
                    )
                )
                continue
            if fatal is not None:
                report.results.append(RecipientResult(r.email, r.name, "failed", error=fatal))
                continue
            result, is_fatal = _deliver(
                conn, ledger, edition.edition_id, r, message(r), smtp, max_attempts, backoff, sleep
            )
            report.results.append(result)
            if is_fatal:
                fatal = f"not attempted after an earlier error: {result.error}"
    finally:
        conn.reset()
    for r in report.results:
        if r.status == "failed":
            log.error("not delivered to %s: %s", r.email, r.error)
    return report


def _deliver(
    conn: _Connection,
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
            kind = _classify(exc, r.email)
            last = str(kind)
            if isinstance(kind, _Permanent):
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
