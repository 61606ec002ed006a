"""E-mail: the one check of an address, and the one way out for every message (receipts,
monthly reports, invitations and password resets): SMTP when MAIL_SERVER is set, with
STARTTLS (MAIL_USE_TLS), login (MAIL_USERNAME) and one timeout (MAIL_TIMEOUT seconds)."""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage

from flask import current_app
from wtforms.validators import ValidationError

log = logging.getLogger(__name__)

# One local part, one @, a domain with a dot and a top-level part; no spaces, quotes or
# angle brackets (they would break headers). email-validator is not installed here.
EMAIL_RE = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,200}\.[^@\s<>\"]{2,}$")
MAX_EMAIL_LENGTH = 254


def is_valid_email(address: str | None) -> bool:
    """Whether ``address`` is an e-mail address we accept (citizens, staff, forms)."""
    return bool(address) and len(address) <= MAX_EMAIL_LENGTH and EMAIL_RE.match(address) is not None


# What a failed delivery raises: a network error or the server refusing the message.
MAIL_ERRORS: tuple[type[Exception], ...] = (OSError, smtplib.SMTPException)


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def sender() -> str:
    return current_app.config.get("MAIL_FROM") or "portal@example.cz"


def deliver(message: EmailMessage) -> None:
    """Hand a built message to the SMTP server; raises one of MAIL_ERRORS when it fails."""
    cfg = current_app.config
    timeout = float(cfg.get("MAIL_TIMEOUT") or 20)
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25), timeout=timeout) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


class ValidEmail:
    """A WTForms validator with the same check (email-validator is not installed here);
    an empty field is left to DataRequired or Optional."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:  # type: ignore[no-untyped-def]
        if field.data and not is_valid_email(field.data):
            raise ValidationError(self.message or "invalid e-mail address")


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send a plain-text message; returns True when it went to an SMTP server (without
    MAIL_SERVER it goes to the log: development and demos)."""
    msg = EmailMessage()
    msg["From"] = sender()
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if not mail_configured():
        log.warning("MAIL_SERVER not set; e-mail to %s: %s\n%s", to, subject, body)
        return False
    deliver(msg)
    return True
