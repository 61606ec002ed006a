"""E-mail: the one check of an address, and outgoing mail (SMTP when MAIL_SERVER is set,
otherwise the message goes to the log: development and demos)."""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)

# One local part, one @, a domain with a dot and a top-level part; no spaces, quotes or
# angle brackets (they would break headers). email-validator is not installed here.
EMAIL_RE = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,200}\.[^@\s<>\"]{2,}$")
MAX_EMAIL_LENGTH = 254


def is_valid_email(address: str | None) -> bool:
    """Whether ``address`` is an e-mail address we accept (citizens, staff, forms)."""
    return bool(address) and len(address) <= MAX_EMAIL_LENGTH and EMAIL_RE.match(address) is not None


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send a plain-text message; returns True when it went to an SMTP server."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg.get("MAIL_FROM", "portal@example.cz")
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if not cfg.get("MAIL_SERVER"):
        log.warning("MAIL_SERVER not set; e-mail to %s: %s\n%s", to, subject, body)
        return False
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT", 25)), timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)
    return True
