"""Obligations ("předpisy"): what each payer owes for a service, imported from the
municipality's payer lists, and the record of each import.

The state is derived from the amounts and the due date, never stored, so it cannot
drift from what was paid.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.db import Base, utcnow


class ObligationState(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"  # withdrawn by the municipality (the API's cancel); never payable


class LookupMode(StrEnum):
    NONE = "none"  # the service has no payer list
    OPTIONAL = "optional"  # the payer may look up what they owe, or pay freely
    REQUIRED = "required"  # only obligations found by customer ID can be paid


class AmountMatch(StrEnum):
    """How the paid amount must relate to what is left to pay on the obligation."""

    EXACT = "exact"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    ANY = "any"


class Obligation(Base):
    __tablename__ = "obligation"
    __table_args__ = (
        # One composite key to the service: it proves the service exists AND that
        # municipality_id is the service's, with one check per row instead of two
        # (the foreign-key checks were half the time of a 100,000-row import).
        ForeignKeyConstraint(["service_id", "municipality_id"], ["service.id", "service.municipality_id"]),
        UniqueConstraint("service_id", "customer_id"),
        # NULLs do not collide, so obligations without a variable symbol are fine.
        UniqueConstraint("municipality_id", "variable_symbol"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_paid >= 0", name="amount_paid_not_negative"),
        # A payer's other obligations in the municipality (several fees in one payment).
        Index("ix_obligation_municipality_customer", "municipality_id", "customer_id"),
        Index("ix_obligation_municipality_household", "municipality_id", "household"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the service so a variable symbol is unique in the municipality.
    municipality_id: Mapped[int]
    service_id: Mapped[int]
    customer_id: Mapped[str] = mapped_column(String(50))
    payer_name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int]  # haléře owed
    amount_paid: Mapped[int] = mapped_column(default=0)  # haléře paid so far, net of refunds
    due_date: Mapped[date | None] = mapped_column(Date)
    variable_symbol: Mapped[str | None] = mapped_column(String(10))
    # The specific symbol the municipality gives this payer (SS, up to 10 digits), when its
    # own records use one: a transfer must carry it to be matched (app/banking/matching.py).
    specific_symbol: Mapped[str | None] = mapped_column(String(10))
    period: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    # HMAC of the payer's birth number when the payer list has that column (keyed like
    # Citizen.birth_number_hmac, app/citizens/birth_number.py); the number itself is never
    # stored. A citizen who consented to matching sees the obligation in their account.
    birth_number_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    cancelled_at: Mapped[datetime | None]
    # The payer's e-mail for reminders before and after the due date (optional column).
    payer_email: Mapped[str | None] = mapped_column(String(254))
    # Obligations one payer pays together (the household's waste fees, the dog): the same
    # household code, or the same customer ID, in the municipality (app/obligations/household.py).
    household: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship()  # noqa: F821

    @property
    def remaining(self) -> int:
        return max(self.amount - self.amount_paid, 0)

    def state_on(self, today: date) -> ObligationState:
        if self.cancelled_at is not None:
            return ObligationState.CANCELLED
        if self.amount_paid >= self.amount:
            return ObligationState.PAID
        if self.due_date is not None and self.due_date < today:
            return ObligationState.OVERDUE
        if self.amount_paid > 0:
            return ObligationState.PARTIALLY_PAID
        return ObligationState.UNPAID

    @property
    def state(self) -> ObligationState:
        return self.state_on(date.today())


class ImportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # imported (with allow_partial, bad rows were left out)
    REJECTED = "rejected"  # the file or some rows are bad: nothing imported
    FAILED = "failed"  # an unexpected error: nothing imported


class ObligationImport(Base):
    """One uploaded payer list and the progress and report of importing it."""

    __tablename__ = "obligation_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    # The upload itself, loaded only by the job (it can be megabytes).
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    size: Mapped[int]
    allow_partial: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.PENDING)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    service: Mapped[Service] = relationship()  # noqa: F821
