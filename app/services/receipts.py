"""Receipts ("potvrzení o zaplacení"): issued when a payment becomes paid, numbered
without gaps per municipality and year, rendered as a PDF and e-mailed by a job.

The number comes from a counter row locked with SELECT … FOR UPDATE inside the
transaction of the paid transition (``on_transition(PAID)``): if that transaction rolls
back, so does the number. The e-mail is enqueued only after the commit, so a job never
looks for a receipt that does not exist yet.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, render_template
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db import SessionFactory, db_session, utcnow
from app.models import Payment, PaymentState, Receipt, ReceiptCounter
from app.services.payments import on_transition

log = logging.getLogger(__name__)

PRAGUE = ZoneInfo("Europe/Prague")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_PENDING = "receipts_to_email"


def local_time(moment: datetime) -> datetime:
    """A stored time (UTC; SQLite gives it back naive) in Europe/Prague."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PRAGUE)


def format_number(year: int, number: int) -> str:
    return f"{year}/{number:06d}"


# -- issuing -------------------------------------------------------------------------
def _next_number(session: Session, municipality_id: int, year: int) -> int:
    """Take the next number of (municipality, year). Waits for any other transaction
    that holds the counter, so numbers are handed out one at a time."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - we run on these two
        raise RuntimeError(f"unsupported database {dialect}")
    # The first receipt of a year creates the row; a concurrent first one waits for it.
    session.execute(
        insert(ReceiptCounter)
        .values(municipality_id=municipality_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["municipality_id", "year"])
    )
    counter = session.execute(
        select(ReceiptCounter)
        .where(ReceiptCounter.municipality_id == municipality_id, ReceiptCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    counter.last_number += 1
    session.flush()
    return counter.last_number


def issue_receipt(payment: Payment, session: Session | None = None) -> Receipt:
    """The payment's receipt; issues one (with a new number) only if it has none.
    Does not commit: it runs in the transaction that marks the payment paid."""
    session = session or db_session()
    existing = session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
    if existing is not None:
        return existing
    year = local_time(payment.paid_at or utcnow()).year
    number = _next_number(session, payment.municipality_id, year)
    receipt = Receipt(
        payment_id=payment.id,
        municipality_id=payment.municipality_id,
        year=year,
        number=number,
        full_number=format_number(year, number),
        token=secrets.token_urlsafe(32),
        issued_at=utcnow(),
    )
    session.add(receipt)
    session.flush()
    session.info.setdefault(_PENDING, []).append(receipt.id)
    return receipt


@on_transition(PaymentState.PAID)
def _issue_on_paid(payment: Payment, session: Session) -> None:
    issue_receipt(payment, session)


@event.listens_for(SessionFactory, "after_commit")
def _email_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        _enqueue_emails(ids)


@event.listens_for(SessionFactory, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # The receipts of a rolled-back transaction do not exist.
    session.info.pop(_PENDING, None)


def _enqueue_emails(ids: list[int], *, force: bool = False) -> None:
    if not has_app_context():
        log.warning("receipts %s issued outside the app: not e-mailed (run `flask receipts send-unsent`)", ids)
        return
    from app import jobs

    for receipt_id in ids:
        try:
            jobs.enqueue(jobs.send_receipt_email, receipt_id, force=force)
        except Exception:  # noqa: BLE001 - the payment is paid; the e-mail can be sent later
            log.exception("receipt %s: e-mail not sent now (run `flask receipts send-unsent`)", receipt_id)


def resend_receipt(receipt: Receipt) -> None:
    """Send the same receipt (same number) again."""
    _enqueue_emails([receipt.id], force=True)


def receipt_for_payment(payment: Payment, session: Session | None = None) -> Receipt | None:
    session = session or db_session()
    return session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))


def find_receipt(token: str, session: Session | None = None) -> Receipt | None:
    if not TOKEN_RE.match(token or ""):
        return None
    session = session or db_session()
    return session.scalar(select(Receipt).where(Receipt.token == token))


def unsent_receipt_ids(session: Session | None = None) -> list[int]:
    session = session or db_session()
    return list(session.scalars(select(Receipt.id).where(Receipt.emailed_at.is_(None)).order_by(Receipt.id)))


# -- the document --------------------------------------------------------------------
def receipt_url(receipt: Receipt, *, pdf: bool = False) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/potvrzeni/{receipt.token}{'.pdf' if pdf else ''}"


def receipt_context(receipt: Receipt) -> dict[str, object]:
    payment = receipt.payment
    return {
        "receipt": receipt,
        "payment": payment,
        "municipality": receipt.municipality,
        "service": payment.service,
        "paid_at": local_time(payment.paid_at or receipt.issued_at),
        # SEČ in winter, SELČ in summer: the receipt says which.
        "tz_label": "SELČ" if local_time(payment.paid_at or receipt.issued_at).dst() else "SEČ",
        "issued_at": local_time(receipt.issued_at),
        "verify_url": receipt_url(receipt),
        "refunded": payment.state in (PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED),
    }


def render_receipt_pdf(receipt: Receipt) -> bytes:
    import segno
    from weasyprint import HTML

    context = receipt_context(receipt)
    qr = segno.make(str(context["verify_url"]), error="m", micro=False).png_data_uri(scale=4, border=2)
    html = render_template("receipts/receipt_pdf.html", qr_data_uri=qr, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def pdf_filename(receipt: Receipt) -> str:
    return f"potvrzeni-{receipt.full_number.replace('/', '-')}.pdf"


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
