"""Email delivery of an edition; the code now lives in `pipeline.editions.mail`.

Kept so `from pipeline.editions.delivery import send_edition` (docs, other branches) still works.
"""

from pipeline.editions.mail import (  # noqa: F401
    DeliveryReport,
    EditionMail,
    Ledger,
    Recipient,
    SmtpSettings,
    build_message,
    check_site_url,
    email_context,
    load_edition,
    read_recipients,
    send_edition,
)
