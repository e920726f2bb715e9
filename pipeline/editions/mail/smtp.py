"""SMTP settings and one verified-TLS session, with SMTP errors sorted into retry or report.

Secrets come from the environment or a file; they are never logged, put in errors, written to
the ledger or shown by `repr`.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.editions.mail.recipients import EMAIL
from pipeline.errors import InputError

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


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
        password = _password(env.get("BRIEFING_SMTP_PASSWORD") or None, get("PASSWORD_FILE"))
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


def _password(password: str | None, password_file: str | None) -> str | None:
    """The SMTP password from the variable or from a file (one trailing newline stripped)."""
    if password and password_file:
        raise InputError(
            "both BRIEFING_SMTP_PASSWORD and BRIEFING_SMTP_PASSWORD_FILE are set",
            fix="set only one of them",
        )
    if not password_file:
        return password
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
    return password


class Permanent(Exception):
    """A failure retrying cannot fix; `fatal` ones (auth, sender, TLS) stop the whole run."""

    def __init__(self, text: str, fatal: bool = False) -> None:
        super().__init__(text)
        self.fatal = fatal


class Transient(Exception):
    pass


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


def classify(exc: Exception, email: str) -> Exception:
    """Map smtplib errors to transient (retry) or permanent (report) failures."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Permanent(
            f"authentication failed: {_reply(exc.smtp_code, exc.smtp_error)}", fatal=True
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = exc.recipients.get(email, (550, b"refused"))
        reply = _reply(code, text)
        return Transient(reply) if 400 <= code < 500 else Permanent(f"address refused: {reply}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return (
            Transient(reply)
            if 400 <= exc.smtp_code < 500
            else Permanent(f"sender refused: {reply}", fatal=True)
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Permanent(f"server does not support this: {exc}", fatal=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return Transient(reply) if 400 <= exc.smtp_code < 500 else Permanent(reply)
    if isinstance(exc, ssl.SSLError):  # before OSError: a bad certificate will not heal
        return Permanent(f"TLS failed: {exc.__class__.__name__}: {exc.reason}", fatal=True)
    if isinstance(exc, smtplib.SMTPException) and not isinstance(
        exc, smtplib.SMTPServerDisconnected
    ):
        return Permanent(f"{exc.__class__.__name__}: {exc}", fatal=True)
    if isinstance(exc, OSError):
        return Transient(f"connection problem: {exc.__class__.__name__}: {exc}")
    return Permanent(f"{exc.__class__.__name__}: {exc}")


class Connection:
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
