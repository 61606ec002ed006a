"""Refunds: one row per refund a clerk asks for (or the gateway reports), the record that
the obligations and the reports count.

A refund is ``requested`` while the gateway has not confirmed it (BTCPay pays out later,
when the payer claims it), then ``succeeded`` or ``failed``. A bank transfer has no
gateway to send money back: its refund names the counter-account the money came from and
stays ``requested`` ("to be sent") until a clerk confirms the payment order was sent. Only succeeded refunds move
the payment (``amount_refunded``, partially_refunded → refunded); requested ones reserve
their amount so that no two refunds can exceed the payment.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db import Base, utcnow


class RefundState(StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(Base):
    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('requested', 'succeeded', 'failed')", name="state_known"),
        # The reports count succeeded refunds by the time they completed.
        Index(
            "ix_refund_completed_succeeded",
            "completed_at",
            postgresql_where=text("state = 'succeeded'"),
            sqlite_where=text("state = 'succeeded'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    amount: Mapped[int]  # haléře
    reason: Mapped[str] = mapped_column(String(200))
    # Who asked (a staff e-mail); NULL when the gateway reported a refund made elsewhere.
    actor: Mapped[str | None] = mapped_column(String(254))
    # The gateway's id of the refund (Stripe re_…, a BTCPay pull payment).
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=RefundState.REQUESTED)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # A bank transfer's refund: where the money goes back to, as the statement line had it.
    counter_account: Mapped[str | None] = mapped_column(String(40))
    counter_bank_code: Mapped[str | None] = mapped_column(String(11))
    counter_iban: Mapped[str | None] = mapped_column(String(34))
    counter_name: Mapped[str | None] = mapped_column(String(200))
    # The clerk who confirmed the manual payout was sent (a bank transfer's refund).
    confirmed_by: Mapped[str | None] = mapped_column(String(254))

    payment: Mapped[Payment] = relationship()  # noqa: F821

    @property
    def counter_display(self) -> str:
        if self.counter_account:
            return (
                f"{self.counter_account}/{self.counter_bank_code}" if self.counter_bank_code else self.counter_account
            )
        return self.counter_iban or ""


# session.info key: the id of the refund whose transition is running, for its listeners.
APPLYING_REFUND = "applying_refund_id"


def refund_being_applied(session: Session, payment_id: int) -> Refund | None:
    """The refund a refund transition (partially_refunded, refunded) is applying, for the
    listeners of that transition (obligation debit, report summary)."""
    refund_id = session.info.get(APPLYING_REFUND)
    if refund_id is not None:
        refund = session.get(Refund, refund_id)
        if refund is not None and refund.payment_id == payment_id:
            return refund
    # Not through app.payments.refunds (should not happen): the newest succeeded one.
    return session.scalar(
        select(Refund)
        .where(Refund.payment_id == payment_id, Refund.state == RefundState.SUCCEEDED)
        .order_by(Refund.completed_at.desc(), Refund.id.desc())
        .limit(1)
    )
