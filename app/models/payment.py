"""Payments, their one state machine, their event history and gateway notifications.

Every legal move of a payment is in ``ALLOWED_TRANSITIONS``; the only code that changes
``Payment.state`` is ``app.payments.transitions.transition_payment``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from gateway.base import GatewayStatus


class PaymentState(StrEnum):
    CREATED = "created"
    STARTED = "started"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = PaymentState
ALLOWED_TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    S.CREATED: frozenset({S.STARTED, S.FAILED, S.CANCELLED, S.EXPIRED}),
    # A payment the payer abandoned can still be paid at the gateway afterwards: the
    # gateway's truth wins over our expiry, so expired → paid is allowed.
    S.STARTED: frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED}),
    S.EXPIRED: frozenset({S.PAID}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
# Moves only one channel may make. A bank transfer is already paid when it appears on a
# statement and has no gateway to be started at: created → paid in one step (its
# "started" would claim a visit to a gateway that never happened).
CHANNEL_TRANSITIONS: dict[str, dict[PaymentState, frozenset[PaymentState]]] = {
    "bank_transfer": {S.CREATED: frozenset({S.PAID})},
}


def allowed_moves(state: PaymentState | str, gateway_name: str | None = None) -> frozenset[PaymentState]:
    """The states a payment in ``state`` through ``gateway_name`` may move to."""
    state = PaymentState(state)
    extra = CHANNEL_TRANSITIONS.get(gateway_name or "", {}).get(state, frozenset())
    return ALLOWED_TRANSITIONS[state] | extra


# Paid, perhaps refunded since: the payments the reports count and the citizen's success page shows.
SETTLED_STATES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})
# Not yet at the gateway or waiting there: expiry and polling look at these.
OPEN_STATES = frozenset({S.CREATED, S.STARTED})
REFUNDABLE_STATES = frozenset(s for s, to in ALLOWED_TRANSITIONS.items() if S.REFUNDED in to)

# What a gateway's status means for a payment: the state it should move to, or None for
# "no move". PROCESSING is paid but not yet confirmed by the gateway: the payment stays started.
GATEWAY_STATUS_TARGET: dict[GatewayStatus, PaymentState | None] = {
    GatewayStatus.PENDING: None,
    GatewayStatus.PROCESSING: None,
    GatewayStatus.PAID: S.PAID,
    GatewayStatus.FAILED: S.FAILED,
    GatewayStatus.CANCELLED: S.CANCELLED,
    GatewayStatus.EXPIRED: S.EXPIRED,
}
# The outcome a payment has reached for good (a refund does not undo "paid"); created,
# started and expired payments have none yet.
_OUTCOME = {
    S.PAID: S.PAID,
    S.PARTIALLY_REFUNDED: S.PAID,
    S.REFUNDED: S.PAID,
    S.FAILED: S.FAILED,
    S.CANCELLED: S.CANCELLED,
}


def gateway_target(state: PaymentState | str, status: GatewayStatus) -> PaymentState | None:
    """The state a payment in ``state`` moves to when its gateway reports ``status``: None
    when there is no move (already there, nothing implied, or the table forbids it). A
    created payment the gateway reports paid goes through started first (the caller does)."""
    state = PaymentState(state)
    target = GATEWAY_STATUS_TARGET.get(GatewayStatus(status))
    if target is None or target == state:
        return None
    if target in ALLOWED_TRANSITIONS[state]:
        return target
    if state == S.CREATED and target in ALLOWED_TRANSITIONS[S.STARTED]:
        return target
    return None


def contradicts_outcome(state: PaymentState | str, status: GatewayStatus) -> bool:
    """True when the gateway's status contradicts the outcome the payment already has
    (a paid event for a failed payment, a failure for a paid one): a stale event."""
    target = GATEWAY_STATUS_TARGET.get(GatewayStatus(status))
    outcome = _OUTCOME.get(PaymentState(state))
    return target is not None and outcome is not None and _OUTCOME.get(target, target) != outcome


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount", name="refund_bounds"),
        UniqueConstraint("gateway_name", "gateway_reference"),
        Index("ix_payment_municipality_created", "municipality_id", "created_at", "id"),
        Index("ix_payment_state_updated", "state", "updated_at"),
        # The admin list: keyset pagination on (created_at, id) or (amount, id), within a
        # municipality, optionally by state; and the operator's all-municipality view.
        Index("ix_payment_municipality_state_created", "municipality_id", "state", "created_at", "id"),
        Index("ix_payment_municipality_amount", "municipality_id", "amount", "id"),
        Index("ix_payment_created_id", "created_at", "id"),
        Index("ix_payment_municipality_paid", "municipality_id", "paid_at"),
        Index("ix_payment_gateway_reference", "gateway_reference"),
        Index("ix_payment_service_created", "service_id", "created_at", "id"),
        Index("ix_payment_service_state_created", "service_id", "state", "created_at", "id"),
        Index("ix_payment_state_created", "state", "created_at", "id"),
        # Payer search (substring, case-insensitive) stays fast with a million rows:
        # trigram indexes on PostgreSQL (pg_trgm, created before the table below).
        Index(
            "ix_payment_payer_name_trgm",
            "payer_name",
            postgresql_using="gin",
            postgresql_ops={"payer_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_payment_payer_email_trgm",
            "payer_email",
            postgresql_using="gin",
            postgresql_ops={"payer_email": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32), unique=True)
    # The pay form's one-time token: a second submission of the same form finds this row.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    # The logged-in citizen who paid; NULL for anonymous payments and after erasure.
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    # The obligation (předpis) this payment pays, when the payer looked one up.
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligation.id"), index=True)
    amount: Mapped[int]  # haléře
    amount_refunded: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CZK")
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_email: Mapped[str] = mapped_column(String(254))
    variable_symbol: Mapped[str | None] = mapped_column(String(10), index=True)
    state: Mapped[str] = mapped_column(String(20), default=PaymentState.CREATED)
    gateway_name: Mapped[str] = mapped_column(String(30))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    # GP webpay sends the payer with every signed field in the query: longer than most.
    gateway_redirect_url: Mapped[str | None] = mapped_column(String(2000))
    # Stripe's PaymentIntent client secret, for Stripe.js on our card page.
    gateway_client_secret: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    # The municipality's merchant account the payment was created with (NULL: the
    # installation-wide gateway configuration). Kept for its whole life: status, refunds.
    gateway_account_id: Mapped[int | None] = mapped_column(ForeignKey("gateway_account.id"), index=True)
    # What the gateway last said beyond the state, plain values for the status page and the
    # receipt: {"gateway_status": "processing", "btc_amount": "0.0001", "rate": "2300000",
    # "amount_remaining": 5000, ...}.
    gateway_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Paid more than the amount (BTCPay PaidOver): haléře to be returned to the payer.
    amount_overpaid: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    service: Mapped[Service] = relationship()  # noqa: F821
    municipality: Mapped[Municipality] = relationship()  # noqa: F821
    obligation: Mapped[Obligation | None] = relationship()  # noqa: F821
    gateway_account: Mapped[GatewayAccount | None] = relationship()  # noqa: F821
    events: Mapped[list[PaymentEvent]] = relationship(back_populates="payment", order_by="PaymentEvent.id")
    # Several obligations paid at once; empty for a payment of one service or obligation.
    items: Mapped[list[PaymentItem]] = relationship(back_populates="payment", order_by="PaymentItem.position")

    # Named questions about the state, so that no caller repeats a tuple of states.
    @property
    def is_open(self) -> bool:
        """Created or started: not yet decided."""
        return self.state in OPEN_STATES

    @property
    def is_paid(self) -> bool:
        """Paid, perhaps refunded (partly or fully) since."""
        return self.state in SETTLED_STATES

    @property
    def can_become_paid(self) -> bool:
        """Started or expired: the gateway may still report it paid (ask it)."""
        return S.PAID in ALLOWED_TRANSITIONS[PaymentState(self.state)]

    @property
    def is_refundable(self) -> bool:
        return self.state in REFUNDABLE_STATES

    @property
    def is_refunded(self) -> bool:
        """Refunded in part or in full."""
        return self.state in (S.PARTIALLY_REFUNDED, S.REFUNDED)

    @property
    def is_final(self) -> bool:
        """No move is left: failed, cancelled or fully refunded."""
        return not ALLOWED_TRANSITIONS[PaymentState(self.state)]

    @property
    def service_names(self) -> list[str]:
        """The services this payment pays, each once, in the items' order (one for a
        payment of one fee; "Odpad", "Pes" for a household's fees)."""
        return list(dict.fromkeys(i.service.name for i in self.items)) or [self.service.name]


def refunded_per_item(items: Sequence[tuple[Any, int]], total_refunded: int) -> list[int]:
    """How much of a payment's refunds falls on each item ((key, amount) in order): the
    last items first, each at most its amount, so a partial refund undoes whole fees where
    it can. The obligations' debits and the staff's views and exports share this rule."""
    left = total_refunded
    out = [0] * len(items)
    for i in range(len(items) - 1, -1, -1):
        out[i] = min(items[i][1], max(left, 0))
        left -= out[i]
    return out


# The migration must create the extension too (autogenerate does not emit it).
event.listen(
    Payment.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class PaymentItem(Base):
    """One obligation paid by a payment that pays several at once (the household's fees in
    one go). The items' amounts add up to the payment's; paying credits each obligation
    (app/obligations/listeners.py) and the receipt lists them."""

    __tablename__ = "payment_item"
    __table_args__ = (
        UniqueConstraint("payment_id", "obligation_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    amount: Mapped[int]  # haléře
    position: Mapped[int] = mapped_column(default=0)

    payment: Mapped[Payment] = relationship(back_populates="items")
    obligation: Mapped[Obligation] = relationship()  # noqa: F821
    service: Mapped[Service] = relationship()  # noqa: F821


class PaymentEvent(Base):
    """Append-only history: every state change and every gateway message."""

    __tablename__ = "payment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # transition | gateway_message | refund
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="events")


class GatewayNotification(Base):
    """Every notification accepted from a gateway, unique by its event id. It is also the
    outbox of its processing: ``processed_at`` stays NULL until a job has asked the gateway,
    and ``flask jobs sweep`` schedules the rows left unprocessed."""

    __tablename__ = "gateway_notification"
    __table_args__ = (
        UniqueConstraint("gateway_name", "event_id"),
        # The sweep's question, "unprocessed since when", reads only the few open rows.
        Index(
            "ix_gateway_notification_unprocessed",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_name: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(60))
    reference: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class DemoGatewayTransaction(Base):
    """The demo gateway's own ledger (the gateway side, not ours)."""

    __tablename__ = "demo_gateway_transaction"

    reference: Mapped[str] = mapped_column(String(60), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int]
    amount_refunded: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(300))
    return_url: Mapped[str] = mapped_column(String(500))
    notify_url: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20))
