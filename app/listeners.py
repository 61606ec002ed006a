"""Who listens to what, in one place: ``register_listeners`` is called by ``create_app``
(the web app and the RQ worker's app alike), never as a side effect of an import.

Order matters within one transition: the obligation is credited before the monthly
summary counts the payment and before the receipt gets its number."""

from __future__ import annotations

from sqlalchemy import event

from app.citizens.consent import record_on_start
from app.db import SessionFactory
from app.models import PaymentState
from app.obligations.listeners import credit_obligation, credit_obligations_many, debit_refund
from app.payments.transitions import on_transition
from app.receipts.issuing import issue_on_paid, issue_receipts_many
from app.receipts.jobs import email_after_commit, forget_after_rollback
from app.reporting.summary import count_paid, count_paid_many, count_refund
from app.webhooks_out import events as webhook_events
from app.webhooks_out import jobs as webhook_jobs


def register_listeners() -> None:
    """Register every payment-transition and session listener; safe to call again."""
    on_transition(PaymentState.PAID, credit_obligation, many=credit_obligations_many)
    on_transition(PaymentState.PARTIALLY_REFUNDED, debit_refund)
    on_transition(PaymentState.REFUNDED, debit_refund)
    on_transition(PaymentState.PAID, count_paid, many=count_paid_many)
    on_transition(PaymentState.PARTIALLY_REFUNDED, count_refund)
    on_transition(PaymentState.REFUNDED, count_refund)
    on_transition(PaymentState.STARTED, record_on_start)
    on_transition(PaymentState.PAID, issue_on_paid, many=issue_receipts_many)
    # Webhooks after the obligation is credited (obligation.paid reads its amount paid).
    on_transition(PaymentState.PAID, webhook_events.on_paid, many=webhook_events.on_paid_many)
    on_transition(PaymentState.PARTIALLY_REFUNDED, webhook_events.on_refunded)
    on_transition(PaymentState.REFUNDED, webhook_events.on_refunded)
    on_transition(PaymentState.FAILED, webhook_events.on_failed)
    # Receipts are e-mailed only once the transaction that issued them has committed.
    if not event.contains(SessionFactory, "after_commit", email_after_commit):
        event.listen(SessionFactory, "after_commit", email_after_commit)
    if not event.contains(SessionFactory, "after_rollback", forget_after_rollback):
        event.listen(SessionFactory, "after_rollback", forget_after_rollback)
    # Webhook deliveries likewise leave only once their event is committed.
    if not event.contains(SessionFactory, "after_commit", webhook_jobs.enqueue_after_commit):
        event.listen(SessionFactory, "after_commit", webhook_jobs.enqueue_after_commit)
    if not event.contains(SessionFactory, "after_rollback", webhook_jobs.forget_after_rollback):
        event.listen(SessionFactory, "after_rollback", webhook_jobs.forget_after_rollback)
