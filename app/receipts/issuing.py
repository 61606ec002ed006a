"""Receipts ("potvrzení o zaplacení"): issued when a payment becomes paid, numbered
without gaps per municipality and year, rendered as a PDF.

The number comes from a counter row locked with SELECT … FOR UPDATE inside the
transaction of the paid transition (the ``issue_on_paid`` listener): if that transaction
rolls back, so does the number. The e-mail is enqueued only after the commit
(``app.receipts.jobs``), so a job never looks for a receipt that does not exist yet."""

from __future__ import annotations

import re
import secrets

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.bulk import ids_in, insert_rows
from app.db import db_session, utcnow
from app.models import Obligation, Payment, PaymentItem, Receipt, ReceiptCounter
from app.models.payment import SETTLED_STATES
from app.payments.labels import gateway_label
from app.timeutil import to_prague

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
PENDING_EMAILS = "receipts_to_email"


def format_number(year: int, number: int) -> str:
    return f"{year}/{number:06d}"


# -- issuing -------------------------------------------------------------------------
def _next_number(session: Session, municipality_id: int, year: int, count: int = 1) -> int:
    """Take the next number of (municipality, year), or the first of the next ``count``.
    Waits for any other transaction that holds the counter, so numbers are handed out one
    range at a time."""
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
    first = counter.last_number + 1
    counter.last_number += count
    session.flush()
    return first


def issue_receipt(payment: Payment, session: Session | None = None) -> Receipt:
    """The payment's receipt; issues one (with a new number) only if it has none.
    Does not commit: it runs in the transaction that marks the payment paid."""
    session = session or db_session()
    existing = session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
    if existing is not None:
        return existing
    year = to_prague(payment.paid_at or utcnow()).year
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
    session.info.setdefault(PENDING_EMAILS, []).append(receipt.id)
    return receipt


def issue_on_paid(payment: Payment, session: Session) -> None:
    issue_receipt(payment, session)


def issue_receipts_many(payment_ids: list[int], session: Session) -> None:
    """``issue_on_paid`` for a batch of payments paid together (a bank statement): each
    payment without a receipt gets one; a municipality's numbers for the year are taken as
    one range from its locked counter, in the order of the payments' ids, so they stay
    gapless. Payments without an e-mail address (bank transfers) are not e-mailed."""
    have = set(session.scalars(select(Receipt.payment_id).where(ids_in(Receipt.payment_id, payment_ids, session))))
    groups: dict[tuple[int, int], list[tuple[int, str]]] = {}
    rows = session.execute(
        select(Payment.id, Payment.municipality_id, Payment.paid_at, Payment.payer_email)
        .where(ids_in(Payment.id, payment_ids, session))
        .order_by(Payment.id)
    )
    for payment_id, municipality_id, paid_at, email in rows:
        if payment_id not in have:
            groups.setdefault((municipality_id, to_prague(paid_at or utcnow()).year), []).append((payment_id, email))
    now = utcnow()
    for (municipality_id, year), items in sorted(groups.items()):
        first = _next_number(session, municipality_id, year, len(items))
        records = [
            {"payment_id": payment_id, "municipality_id": municipality_id, "year": year, "number": first + i,
             "full_number": format_number(year, first + i), "token": secrets.token_urlsafe(32), "issued_at": now,
             "email_attempts": 0}
            for i, (payment_id, _email) in enumerate(items)
        ]  # fmt: skip
        ids = insert_rows(session, Receipt.__table__, records)
        pending = [rid for rid, (_pid, email) in zip(ids, items, strict=True) if email]
        if pending:
            session.info.setdefault(PENDING_EMAILS, []).extend(pending)


def receipt_for_payment(payment: Payment, session: Session | None = None) -> Receipt | None:
    session = session or db_session()
    return session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))


def receipt_for_obligation(obligation: Obligation, session: Session | None = None) -> Receipt | None:
    """The receipt of the latest payment that paid this obligation (alone or as an item)."""
    session = session or db_session()
    as_item = select(PaymentItem.payment_id).where(PaymentItem.obligation_id == obligation.id)
    return session.scalar(
        select(Receipt)
        .join(Payment, Payment.id == Receipt.payment_id)
        .where(
            or_(Payment.obligation_id == obligation.id, Payment.id.in_(as_item)),
            Payment.state.in_(SETTLED_STATES),
        )
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(1)
    )


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
        "paid_at": to_prague(payment.paid_at or receipt.issued_at),
        # SEČ in winter, SELČ in summer: the receipt says which.
        "tz_label": "SELČ" if to_prague(payment.paid_at or receipt.issued_at).dst() else "SEČ",
        "issued_at": to_prague(receipt.issued_at),
        "verify_url": receipt_url(receipt),
        "refunded": payment.is_refunded,
        # A payment of several obligations lists each (service, customer ID, period, amount).
        "items": item_rows(payment),
        # The account the fee belongs to: the service's own when it has one.
        "account": _account_text(payment),
        # The demo gateway moves no money: its receipts say so on their face.
        "demo": payment.gateway_name == "demo",
        # How it was paid, in words ("Bitcoin (BTCPay)", "GoPay", "Bankovní převod").
        "channel": gateway_label(payment.gateway_name),
        "bitcoin": bitcoin_facts(payment),
    }


def bitcoin_facts(payment: Payment) -> dict[str, str] | None:
    """What BTCPay reported for a Bitcoin payment (kept in ``gateway_details``): the BTC
    that arrived (else the invoice's BTC amount) and the rate in Kč for 1 BTC that BTCPay
    fixed for the invoice. None for other payments or when BTCPay said nothing."""
    details = payment.gateway_details or {}
    btc = details.get("btc_paid") or details.get("btc_amount")
    if payment.gateway_name != "btcpay" or not btc:
        return None
    return {"btc": str(btc), "rate": str(details.get("rate") or "")}


def _account_text(payment: Payment) -> str | None:
    from app.qr import account_for, format_iban, iban_to_czech_account

    iban = account_for(payment.service)
    if not iban:
        return None
    czech = iban_to_czech_account(iban)
    return f"{czech} (IBAN {format_iban(iban)})" if czech else format_iban(iban)


def item_rows(payment: Payment) -> list[dict[str, object]]:
    """Each obligation of a payment of several: service, customer ID, period, amount."""
    return [
        {
            "service": i.service.name,
            "customer_id": i.obligation.customer_id,
            "period": i.obligation.period,
            "amount": i.amount,
        }
        for i in payment.items
    ]


def render_receipt_pdf(receipt: Receipt) -> bytes:
    import segno
    from weasyprint import HTML

    # The document is Czech whatever the language of the page it is downloaded from.
    with force_locale("cs"):
        context = receipt_context(receipt)
        qr = segno.make(str(context["verify_url"]), error="m", micro=False).png_data_uri(scale=4, border=2)
        html = render_template("receipts/receipt_pdf.html", qr_data_uri=qr, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def pdf_filename(receipt: Receipt) -> str:
    return f"potvrzeni-{receipt.full_number.replace('/', '-')}.pdf"
