"""Refunds: a ``Refund`` record per refund, the payment row locked before the gateway is
asked, the state machine moved and the audit row written in the same transaction.

Two clerks refunding the same payment at once: the second waits for the first's lock and
then sees what is left. A gateway whose refunds complete later (BTCPay pays out when the
payer claims it: ``refund()`` says ``succeeded=False``) leaves the Refund ``requested``;
``poll_requested_refunds`` (run by ``flask payments poll``) asks the gateway's
``refund_status`` and completes it with ``complete_refund``. A refund the gateway reports
that we did not ask for (made in its dashboard) becomes a Refund too
(``record_gateway_refunds``), so the Refund table is the whole truth the obligations and
reports count.

A bank transfer (channel ``bank_transfer``) has no gateway to send the money back: its
refund records the counter-account of the statement line the money came from and stays
``requested`` — "to be sent" — until a clerk confirms the payment order left the
municipality's bank (``confirm_refund_sent``); only then does the payment move through the
state machine, as any refund does.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db_session, utcnow
from app.gateways import gateway_for_payment
from app.models import BANK_TRANSFER, BankLine, BankLineMatch, Payment, PaymentState, Refund, RefundState, StaffUser
from app.models.refund import APPLYING_REFUND
from app.payments.errors import RefundError
from app.payments.refund_claims import claim_url, schedule_refund_claim_mail
from app.payments.transitions import transition_payment
from app.staff.audit import audit
from gateway import GatewayError

log = logging.getLogger(__name__)
S = PaymentState
R = RefundState


def _lock(payment_id: int) -> Payment:
    return db_session.execute(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def reserved_amount(payment_id: int) -> int:
    """Refunds asked for and not yet confirmed: their amount is not available again."""
    return int(
        db_session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment_id, Refund.state == R.REQUESTED
            )
        )
        or 0
    )


def refundable_amount(payment: Payment) -> int:
    """What can still be refunded (read without a lock: for forms; refund_payment re-checks)."""
    return max(0, payment.amount - payment.amount_refunded - reserved_amount(payment.id))


def refund_payment(
    payment: Payment, amount: int, *, reason: str, actor: str | None = None, staff: StaffUser | None = None
) -> Refund:
    """Refund all or part of a paid payment through its gateway.

    Commits: the gateway moves money, so its outcome is recorded at once, whatever the
    caller does next (a failed refund is kept as ``failed``, with its audit row, and
    RefundError raised). Refusals before the gateway is asked raise RefundError with
    nothing written (the caller rolls back, which releases the lock). The audit row names
    ``staff`` (else the logged-in staff member, if any)."""
    locked = _lock(payment.id)
    if not locked.is_refundable:
        raise RefundError("not_refundable")
    remaining = locked.amount - locked.amount_refunded - reserved_amount(locked.id)
    if amount <= 0 or amount > remaining:
        raise RefundError("refund_amount", max=max(remaining, 0))
    reason = reason.strip()
    if not reason:
        raise RefundError("refund_reason")
    before = {"state": locked.state, "amount_refunded": locked.amount_refunded}
    refund = Refund(
        payment_id=locked.id, amount=amount, reason=reason[:200], actor=actor, state=R.REQUESTED, requested_at=utcnow()
    )
    if locked.gateway_name == BANK_TRANSFER:
        return _request_transfer_refund(locked, refund, before, staff)
    # The payment row stays locked while the gateway is asked: a concurrent refund waits
    # here. The Refund is written after the call, in the same transaction (nobody sees it
    # before the commit anyway, and SQLite's one writer would block the demo gateway's
    # ledger). Should we die between the gateway's answer and the commit, the next status
    # sync records the refund from the gateway's total (record_gateway_refunds).
    try:
        result = gateway_for_payment(locked).refund(locked.gateway_reference or "", amount, reason)
    except GatewayError as exc:
        db_session.add(refund)
        db_session.flush()
        complete_refund(refund, succeeded=False, failure_reason=str(exc))
        _audit(locked, refund, before, staff)
        db_session.commit()
        log.warning("refund of %s refused by the gateway: %s", locked.external_id, exc)
        raise RefundError("gateway_error") from None
    refund.gateway_reference = (result.refund_reference or "")[:100] or None
    db_session.add(refund)
    db_session.flush()
    if result.succeeded:
        complete_refund(refund, succeeded=True)
    _audit(locked, refund, before, staff)
    db_session.commit()
    if refund.state == R.REQUESTED:
        schedule_refund_claim_mail(refund)  # the payer collects it (BTCPay): tell them where
    return refund


def transfer_line(payment: Payment) -> BankLine | None:
    """The statement line a bank transfer's payment was matched to (None for other channels)."""
    if payment.gateway_name != BANK_TRANSFER:
        return None
    return db_session.scalar(
        select(BankLine)
        .join(BankLineMatch, BankLineMatch.line_id == BankLine.id)
        .where(BankLineMatch.payment_id == payment.id, BankLineMatch.undone_at.is_(None))
        .order_by(BankLineMatch.id.desc())
        .limit(1)
    )


def _request_transfer_refund(
    payment: Payment, refund: Refund, before: dict[str, object], staff: StaffUser | None
) -> Refund:
    """A bank transfer's refund "to be sent" to the account the money came from. Commits."""
    line = transfer_line(payment)
    if line is None or not (line.counter_account or line.counter_iban):
        raise RefundError("no_counter_account")
    refund.counter_account, refund.counter_bank_code = line.counter_account, line.counter_bank_code
    refund.counter_iban, refund.counter_name = line.counter_iban, line.counter_name
    db_session.add(refund)
    db_session.flush()
    _audit(payment, refund, before, staff)
    db_session.commit()
    return refund


def confirm_refund_sent(payment: Payment, refund_id: int, *, staff: StaffUser) -> Refund:
    """The clerk sent a bank transfer's refund from the bank: the refund succeeds and the
    payment moves (partially_refunded or refunded) with its listeners; audited. Commits.
    Refused (RefundError, nothing written) unless it is this payment's refund to be sent."""
    locked = _lock(payment.id)
    refund = db_session.get(Refund, refund_id, populate_existing=True)
    if (
        refund is None
        or refund.payment_id != locked.id
        or locked.gateway_name != BANK_TRANSFER
        or refund.state != R.REQUESTED
    ):
        raise RefundError("not_to_be_sent")
    before = {"state": locked.state, "amount_refunded": locked.amount_refunded, "refund_state": refund.state}
    refund.confirmed_by = staff.email
    complete_refund(refund, succeeded=True)
    audit(
        "refund.sent",
        locked,
        staff=staff,
        before=before,
        after={
            "state": locked.state, "amount_refunded": locked.amount_refunded, "refund_id": refund.id,
            "refund_state": refund.state, "amount": refund.amount, "counter_account": refund.counter_display,
        },
        commit=False,
    )  # fmt: skip
    db_session.commit()
    return refund


def refunds_to_send(payment_id: int) -> list[Refund]:
    """A bank transfer's refunds waiting for the clerk's payout, oldest first."""
    return list(
        db_session.scalars(
            select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.payment_id == payment_id, Refund.state == R.REQUESTED, Payment.gateway_name == BANK_TRANSFER)
            .order_by(Refund.id)
        )
    )


def refund_by_staff(payment: Payment, amount: int, *, reason: str, staff: StaffUser) -> Refund:
    """A clerk's refund (the admin area): ``refund_payment`` with the clerk as actor and in
    the audit row, both in the refund's own transaction."""
    return refund_payment(payment, amount, reason=reason, actor=staff.email, staff=staff)


def _audit(payment: Payment, refund: Refund, before: dict[str, object], staff: StaffUser | None) -> None:
    audit(
        "refund",
        payment,
        staff=staff,
        before=before,
        after={
            "state": payment.state,
            "amount_refunded": payment.amount_refunded,
            "refund_id": refund.id,
            "refund_state": refund.state,
            "amount": refund.amount,
            "reason": refund.reason,
        },
        commit=False,
    )


def complete_refund(refund: Refund, *, succeeded: bool, failure_reason: str | None = None) -> None:
    """Mark a requested refund succeeded (the payment moves to partially_refunded or
    refunded, with its listeners) or failed (nothing moves). Repeats are ignored. Does not
    commit. The hook for gateways whose refunds complete after ``refund()`` returned."""
    payment = _lock(refund.payment_id)
    db_session.refresh(refund)
    if refund.state != R.REQUESTED:
        return
    if not succeeded:
        refund.state = R.FAILED
        refund.failure_reason = (failure_reason or "refused by the gateway")[:200]
        refund.completed_at = utcnow()
        db_session.flush()
        return
    total = min(payment.amount_refunded + refund.amount, payment.amount)
    to = S.REFUNDED if total >= payment.amount else S.PARTIALLY_REFUNDED
    refund.state = R.SUCCEEDED
    refund.completed_at = utcnow()
    db_session.flush()
    session = db_session()
    session.info[APPLYING_REFUND] = refund.id
    try:
        locked = transition_payment(
            payment,
            to,
            reason=f"refund: {refund.reason}",
            data={
                "refund_id": refund.id,
                "amount": refund.amount,
                "amount_refunded": total,
                "actor": refund.actor,
                "refund_reference": refund.gateway_reference,
            },
        )
    finally:
        session.info.pop(APPLYING_REFUND, None)
    locked.amount_refunded = total


def record_gateway_refunds(payment: Payment, total_refunded: int, *, source: str) -> None:
    """The gateway says ``total_refunded`` is refunded: complete our requested refunds it
    covers (oldest first) and record the rest as a refund made at the gateway."""
    locked = _lock(payment.id)
    missing = min(total_refunded, locked.amount) - locked.amount_refunded
    if missing <= 0 or not locked.is_refundable:
        return
    requested = db_session.scalars(
        select(Refund).where(Refund.payment_id == locked.id, Refund.state == R.REQUESTED).order_by(Refund.id)
    ).all()
    for refund in requested:
        if refund.amount <= missing:
            complete_refund(refund, succeeded=True)
            missing -= refund.amount
    if missing > 0:
        refund = Refund(
            payment_id=locked.id,
            amount=missing,
            reason=f"{source}: refunded at the gateway"[:200],
            state=R.REQUESTED,
            requested_at=utcnow(),
        )
        db_session.add(refund)
        db_session.flush()
        complete_refund(refund, succeeded=True)


def poll_requested_refunds(older_than: timedelta = timedelta(0)) -> int:
    """Ask gateways that confirm refunds later (those with ``refund_status``) about the
    refunds still requested; complete those paid out. Commits each; returns how many."""
    cutoff = utcnow() - older_than
    ids = db_session.scalars(
        select(Refund.id).where(Refund.state == R.REQUESTED, Refund.requested_at <= cutoff).order_by(Refund.id)
    ).all()
    completed = 0
    for refund_id in ids:
        refund = db_session.get(Refund, refund_id)
        if refund is None or not refund.gateway_reference:
            continue
        payment = db_session.get(Payment, refund.payment_id)
        assert payment is not None
        status_of = getattr(gateway_for_payment(payment), "refund_status", None)
        if status_of is None:
            continue
        try:
            status = status_of(refund.gateway_reference)
        except GatewayError as exc:
            log.warning("refund %s: status unavailable: %s", refund.id, exc)
            continue
        if getattr(status, "completed", False):
            complete_refund(refund, succeeded=True)
            db_session.commit()
            completed += 1
    return completed


def refund_claim_url(payment: Payment, refund_reference: str) -> str | None:
    """Where the payer claims a BTCPay refund with their wallet address (None elsewhere)."""
    return claim_url(payment, refund_reference)
