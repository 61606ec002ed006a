"""Receipt e-mails as jobs: enqueued after the commit that issued the receipt, or
again on request (same number)."""

from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy.orm import Session

from app.jobs import enqueue, in_app
from app.models import Receipt
from app.receipts import mailing
from app.receipts.issuing import PENDING_EMAILS

log = logging.getLogger(__name__)


def email_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_EMAILS, None)
    if ids:
        enqueue_emails(ids)


def forget_after_rollback(session: Session) -> None:
    # The receipts of a rolled-back transaction do not exist.
    session.info.pop(PENDING_EMAILS, None)


def enqueue_emails(ids: list[int], *, force: bool = False) -> None:
    if not has_app_context():
        log.warning("receipts %s issued outside the app: not e-mailed (run `flask receipts send-unsent`)", ids)
        return
    for receipt_id in ids:
        try:
            enqueue(send_receipt_email, receipt_id, force=force)
        except Exception:  # noqa: BLE001 - the payment is paid; the e-mail can be sent later
            log.exception("receipt %s: e-mail not sent now (run `flask receipts send-unsent`)", receipt_id)


def resend_receipt(receipt: Receipt) -> None:
    """Send the same receipt (same number) again."""
    enqueue_emails([receipt.id], force=True)


@in_app
def send_receipt_email(receipt_id: int, force: bool = False) -> str:
    return mailing.send_receipt_email(receipt_id, force=force)
