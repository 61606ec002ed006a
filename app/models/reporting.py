"""What the reports need from the database: the record of reports already sent, and the
indexes the monthly report reads payments and refunds through."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.payment import Payment


class ReportDispatch(Base):
    """One row per report sent by the scheduler: the unique key makes sending idempotent."""

    __tablename__ = "report_dispatch"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "monthly"
    period: Mapped[str] = mapped_column(String(7))  # "2026-01"
    status: Mapped[str] = mapped_column(String(10), default="sending")  # sending | sent
    recipients: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


# ``PaymentMonthSummary.gateway_account_id`` of payments without a municipality's merchant
# account (the installation-wide gateway configuration, bank transfers): a key column
# cannot be NULL.
NO_GATEWAY_ACCOUNT = 0


class PaymentMonthSummary(Base):
    """Settled payments and refunds per Prague month, municipality, service, gateway and
    the municipality's merchant account (``Payment.gateway_account_id``; 0: none).

    Kept exact in the same transaction as the payment transitions (listeners in
    app.reporting.summary); bulk loads call ``rebuild_payment_summary``. The monthly and
    yearly reports read this instead of scanning the month's payments."""

    __tablename__ = "payment_month_summary"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the Prague month's 1st day
    municipality_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway_name: Mapped[str] = mapped_column(String(30), primary_key=True)
    gateway_account_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, default=NO_GATEWAY_ACCOUNT
    )
    paid_count: Mapped[int] = mapped_column(default=0)
    paid_volume: Mapped[int] = mapped_column(BigInteger, default=0)  # haléře
    refund_count: Mapped[int] = mapped_column(default=0)
    refund_volume: Mapped[int] = mapped_column(BigInteger, default=0)  # haléře


# Settled payments by the time they were paid. paid_at is set only by the transition to
# paid (and kept by refunds), so "paid_at IS NOT NULL" is exactly the settled payments;
# the report's range condition on paid_at implies it, so PostgreSQL uses this index, and
# the included columns let it answer from the index alone.
Index(
    "ix_payment_paid_at_report",
    Payment.paid_at,
    postgresql_where=Payment.paid_at.is_not(None),
    postgresql_include=["state", "municipality_id", "service_id", "gateway_name", "gateway_account_id", "amount"],
    sqlite_where=Payment.paid_at.is_not(None),
)
