"""The receipt e-mail: its message with the PDF attached, and sending it once."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template

from app.db import SessionFactory, utcnow
from app.models import Receipt
from app.receipts.issuing import pdf_filename, receipt_context, render_receipt_pdf

log = logging.getLogger(__name__)


def build_receipt_email(receipt: Receipt, pdf: bytes) -> EmailMessage:
    payment = receipt.payment
    municipality = receipt.municipality
    msg = EmailMessage()
    msg["Subject"] = f"Potvrzení o zaplacení č. {receipt.full_number} – {municipality.name}"
    msg["From"] = formataddr(("Platební portál", current_app.config["MAIL_FROM"]))
    msg["To"] = formataddr((payment.payer_name, payment.payer_email))
    msg["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or None)
    msg.set_content(render_template("receipts/email.txt", **receipt_context(receipt)))
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_filename(receipt))
    return msg


def send_receipt_email(receipt_id: int, *, force: bool = False) -> str:
    """E-mail the receipt's PDF to the payer. Uses its own session: it may run right
    after another session's commit (inline jobs). Returns what happened."""
    config = current_app.config
    with SessionFactory() as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            return "missing"
        if receipt.emailed_at is not None and not force:
            return "already_sent"
        if not receipt.payment.payer_email:
            return "no_address"  # a bank transfer: the bank tells us no e-mail address
        if not config.get("MAIL_SERVER"):
            log.info("MAIL_SERVER is not set: receipt %s not e-mailed", receipt.full_number)
            return "skipped"
        message = build_receipt_email(receipt, render_receipt_pdf(receipt))
        receipt.email_attempts += 1
        try:
            with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=20) as smtp:
                if config.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if config.get("MAIL_USERNAME"):
                    smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException):
            session.commit()
            raise
        receipt.emailed_at = utcnow()
        session.commit()
        log.info("receipt %s e-mailed", receipt.full_number)
        return "sent"
