"""What a clerk does with the lines the rules could not match: match one by hand to an
obligation or to a payment waiting for a transfer, send it back to the payer (the list
for the bank), or undo a wrong match. Each is audited in its own transaction.

Undoing a match cannot take a paid payment back to "created": the state machine allows
paid → refunded only. So an undo is recorded as a full refund of that payment (a Refund
record, reason "bank match undone", completed at once: no money leaves, the transfer goes
back to the queue): the receipt keeps its number, the obligation is debited, the report
shows the refund, and the line is back in the queue for the right match."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.banking.errors import BankingError
from app.banking.importing import record_payments
from app.banking.matching import Allocation, Decision
from app.db import db_session, utcnow
from app.models import BANK_TRANSFER, BankLine, BankLineMatch, LineStatus, Obligation, Payment, PaymentState
from app.models.refund import Refund, RefundState
from app.money import to_decimal_string
from app.payments.refunds import complete_refund
from app.regions.scope import in_region
from app.staff.audit import audit, snapshot
from app.timeutil import to_prague

LINE_FIELDS = ["id", "status", "rule", "amount", "overpayment", "variable_symbol", "matched_by", "returned_at"]


@dataclass(frozen=True)
class Target:
    obligation: Obligation | None = None
    payment: Payment | None = None


def _lock_line(session: Session, line_id: int, municipality_id: int | None) -> BankLine:
    stmt = select(BankLine).where(BankLine.id == line_id).with_for_update()
    if municipality_id is not None:
        stmt = stmt.where(BankLine.municipality_id == municipality_id)
    line = session.scalar(stmt.execution_options(populate_existing=True))
    if line is None:
        raise LookupError(line_id)
    return line


def find_target(municipality_id: int, text: str, session: Session | None = None) -> Target:
    """The obligation (by VS or customer ID) or waiting payment (by VS or its external id)
    a clerk names, in the line's municipality."""
    session = session or db_session()
    text = (text or "").strip()
    if not text:
        raise BankingError("no_target")
    plain = text.lstrip("0") or text
    obligation = session.scalar(
        select(Obligation)
        .where(
            Obligation.municipality_id == municipality_id,
            or_(Obligation.variable_symbol == text, Obligation.variable_symbol == plain),
        )
        .limit(1)
    )
    if obligation is not None:
        return Target(obligation=obligation)
    payment = session.scalar(
        select(Payment)
        .where(
            Payment.municipality_id == municipality_id,
            or_(Payment.variable_symbol == plain, Payment.external_id == text),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if payment is not None:
        return Target(payment=payment)
    raise BankingError("no_target")


def match_manually(line_id: int, target: Target, *, staff_email: str, municipality_id: int | None) -> list[int]:
    """Match an unmatched line to ``target``; commits. Returns the payment ids."""
    session = db_session()
    try:
        line = _lock_line(session, line_id, municipality_id)
        if line.status != LineStatus.UNMATCHED or line.amount <= 0:
            raise BankingError("not_unmatched")
        before = snapshot(line, LINE_FIELDS)
        if target.obligation is not None:
            obligation = session.execute(
                select(Obligation).where(Obligation.id == target.obligation.id).with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()  # fmt: skip
            if obligation.municipality_id != line.municipality_id:
                raise BankingError("no_target")
            if obligation.remaining <= 0:
                raise BankingError("nothing_to_pay")
            paid = min(line.amount, obligation.remaining)
            allocation = Allocation(obligation.service_id, paid, obligation.id)
            over = line.amount - paid
        elif target.payment is not None:
            payment = target.payment
            if payment.municipality_id != line.municipality_id:
                raise BankingError("no_target")
            if payment.state not in (PaymentState.CREATED, PaymentState.EXPIRED) or payment.gateway_reference:
                raise BankingError("payment_not_waiting")
            if line.amount < payment.amount:
                raise BankingError("amount_short")
            allocation = Allocation(payment.service_id, payment.amount, payment.obligation_id, payment.id)
            over = line.amount - payment.amount
        else:
            raise BankingError("no_target")
        now = utcnow()
        line.status, line.rule, line.overpayment = LineStatus.MATCHED, "manual", over
        line.matched_by, line.matched_at = staff_email, now
        session.flush()
        decision = Decision(LineStatus.MATCHED, "manual", over, [allocation])
        earlier = session.scalar(
            select(func.count()).select_from(BankLineMatch).where(BankLineMatch.line_id == line.id)
        )
        ids = record_payments(
            session, [(line.id, _line_values(line), decision)], manual_by=staff_email, earlier_matches=earlier or 0
        )
        audit("bank_line.match", line, before, {**snapshot(line, LINE_FIELDS), "payments": ids}, commit=False)
        session.commit()
        return ids
    except Exception:
        session.rollback()
        raise


def _line_values(line: BankLine) -> dict[str, Any]:
    return {
        "municipality_id": line.municipality_id, "currency": line.currency, "counter_name": line.counter_name,
        "variable_symbol": line.variable_symbol, "counter_account": line.counter_account,
        "counter_bank_code": line.counter_bank_code,
    }  # fmt: skip


def undo_match(line_id: int, *, staff_email: str, municipality_id: int | None) -> None:
    """Put a matched line back in the queue; its payments are refunded in full (see the
    module's note). Commits."""
    session = db_session()
    try:
        line = _lock_line(session, line_id, municipality_id)
        if line.status != LineStatus.MATCHED:
            raise BankingError("not_matched")
        before = snapshot(line, LINE_FIELDS)
        now = utcnow()
        for match in session.scalars(
            select(BankLineMatch).where(BankLineMatch.line_id == line.id, BankLineMatch.undone_at.is_(None))
        ):
            payment = session.get(Payment, match.payment_id)
            assert payment is not None
            if session.scalar(select(Refund.id).where(Refund.payment_id == payment.id,
                                                      Refund.state == RefundState.REQUESTED).limit(1)):  # fmt: skip
                raise BankingError("refund_to_send")
            if payment.is_refundable and payment.amount > payment.amount_refunded:
                # A Refund record (no money leaves: the transfer goes back to the queue).
                refund = Refund(
                    payment_id=payment.id, amount=payment.amount - payment.amount_refunded,
                    reason=f"bank match undone (line {line.id})", actor=staff_email,
                )  # fmt: skip
                session.add(refund)
                session.flush()
                complete_refund(refund, succeeded=True)
            match.undone_at, match.undone_by = now, staff_email
        line.status, line.rule, line.overpayment = LineStatus.UNMATCHED, "undone", 0
        line.matched_by, line.matched_at = None, None
        audit("bank_line.undo", line, before, snapshot(line, LINE_FIELDS), commit=False)
        session.commit()
    except Exception:
        session.rollback()
        raise


def return_to_sender(line_id: int, *, staff_email: str, municipality_id: int | None) -> None:
    """Put an unmatched line on the list of transfers to send back; commits."""
    session = db_session()
    try:
        line = _lock_line(session, line_id, municipality_id)
        if line.status != LineStatus.UNMATCHED or line.amount <= 0:
            raise BankingError("not_unmatched")
        before = snapshot(line, LINE_FIELDS)
        line.status, line.returned_at = LineStatus.RETURNED, utcnow()
        audit("bank_line.return", line, before, snapshot(line, LINE_FIELDS), commit=False)
        session.commit()
    except Exception:
        session.rollback()
        raise


def returns_query(municipality_id: int | None, region_id: int | None = None):  # type: ignore[no-untyped-def]
    """Lines to send money back for: returned ones (whole) and overpayments (the excess),
    of a municipality (None: all, of ``region_id`` when given)."""
    stmt = select(BankLine).where(
        or_(
            BankLine.status == LineStatus.RETURNED, (BankLine.status == LineStatus.MATCHED) & (BankLine.overpayment > 0)
        )
    )
    if municipality_id is not None:
        stmt = stmt.where(BankLine.municipality_id == municipality_id)
    elif region_id is not None:
        stmt = stmt.where(in_region(BankLine.municipality_id, region_id))
    return stmt.order_by(BankLine.booking_date, BankLine.id)


def returns_csv(municipality_id: int | None, session: Session | None = None, region_id: int | None = None) -> str:
    """The list for the bank: one payment order per line to send back."""
    session = session or db_session()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["datum_prijeti", "castka", "mena", "protiucet", "kod_banky", "iban", "jmeno", "vs", "duvod"])
    for line in session.scalars(returns_query(municipality_id, region_id)):
        reason = "vraceni platby" if line.status == LineStatus.RETURNED else "vraceni preplatku"
        writer.writerow([
            line.booking_date.isoformat(), to_decimal_string(line.to_return), line.currency,
            line.counter_account or "", line.counter_bank_code or "", line.counter_iban or "",
            line.counter_name or "", line.variable_symbol or "", reason,
        ])  # fmt: skip
    # Refunds of credited transfers a clerk asked for and has not yet confirmed as sent.
    refunds = (
        select(Refund, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.gateway_name == BANK_TRANSFER, Refund.state == RefundState.REQUESTED)
        .order_by(Refund.requested_at, Refund.id)
    )
    if municipality_id is not None:
        refunds = refunds.where(Payment.municipality_id == municipality_id)
    for refund, payment in session.execute(refunds):
        writer.writerow([
            to_prague(refund.requested_at).date().isoformat(), to_decimal_string(refund.amount), payment.currency,
            refund.counter_account or "", refund.counter_bank_code or "", refund.counter_iban or "",
            refund.counter_name or "", payment.variable_symbol or "", "vraceni platby",
        ])  # fmt: skip
    return out.getvalue()
