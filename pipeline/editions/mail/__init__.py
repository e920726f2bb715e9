"""The stakeholder email: the edition's story in each reader's language, safe to send.

- `context.py`: `email_context(tables, edition)`, the story as numbers and names.
- `words.py`: the reader's word template (`templates/email_<lang>.j2`) and Babel formats.
- `chart.py`: the inline price chart (PNG by vl-convert).
- `recipients.py`: the recipients file, checked whole before anything is sent.
- `message.py`: one reader's MIME message.
- `smtp.py`, `ledger.py`, `send.py`: settings, the at-most-once ledger, dry run and sending.
"""

from pipeline.editions.mail.context import email_context
from pipeline.editions.mail.ledger import Ledger
from pipeline.editions.mail.message import EditionMail, build_message, load_edition
from pipeline.editions.mail.recipients import Recipient, read_recipients
from pipeline.editions.mail.send import DeliveryReport, check_site_url, send_edition
from pipeline.editions.mail.smtp import SmtpSettings

__all__ = [
    "DeliveryReport",
    "EditionMail",
    "Ledger",
    "Recipient",
    "SmtpSettings",
    "build_message",
    "check_site_url",
    "email_context",
    "load_edition",
    "read_recipients",
    "send_edition",
]
