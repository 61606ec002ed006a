"""The receipt e-mail: its message with the PDF attached, and sending it once."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import render_template
from flask_babel import force_locale

from app.db import SessionFactory, utcnow
from app.mail import MAIL_ERRORS, deliver, mail_configured, sender
from app.models import Receipt
from app.receipts.issuing import pdf_filename, receipt_context, render_receipt_pdf

log = logging.getLogger(__name__)


def build_receipt_email(receipt: Receipt, pdf: bytes) -> EmailMessage:
    payment = receipt.payment
    municipality = receipt.municipality
    msg = EmailMessage()
    msg["Subject"] = f"Potvrzení o zaplacení č. {receipt.full_number} – {municipality.name}"
    msg["From"] = formataddr(("Platební portál", sender()))
    msg["To"] = formataddr((payment.payer_name, payment.payer_email))
    msg["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2] or None)
    with force_locale("cs"):  # the e-mail is Czech, as its subject
        msg.set_content(render_template("receipts/email.txt", **receipt_context(receipt)))
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_filename(receipt))
    return msg


def send_receipt_email(receipt_id: int, *, force: bool = False) -> str:
    """E-mail the receipt's PDF to the payer. Uses its own session: it may run right
    after another session's commit (inline jobs). Returns what happened."""
    with SessionFactory() as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            return "missing"
        if receipt.emailed_at is not None and not force:
            return "already_sent"
        if not receipt.payment.payer_email:
            return "no_address"  # a bank transfer: the bank tells us no e-mail address
        if not mail_configured():
            log.info("MAIL_SERVER is not set: receipt %s not e-mailed", receipt.full_number)
            return "skipped"
        message = build_receipt_email(receipt, render_receipt_pdf(receipt))
        receipt.email_attempts += 1
        try:
            deliver(message)
        except MAIL_ERRORS:
            session.commit()
            raise
        receipt.emailed_at = utcnow()
        session.commit()
        log.info("receipt %s e-mailed", receipt.full_number)
        return "sent"
