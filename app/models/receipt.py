"""Receipts ("potvrzení o zaplacení") and their gapless numbering per municipality and year."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

if TYPE_CHECKING:
    from app.models.municipality import Municipality
    from app.models.payment import Payment


class ReceiptCounter(Base):
    """The last number issued by a municipality in a year. Its row is locked (SELECT …
    FOR UPDATE) and incremented in the transaction that marks the payment paid, so a
    rolled-back payment gives its number back and no two payments share one."""

    __tablename__ = "receipt_counter"

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Receipt(Base):
    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("municipality_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("payment.id"), unique=True
    )
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    year: Mapped[int]
    number: Mapped[int]
    full_number: Mapped[str] = mapped_column(String(30))  # "2026/000123"
    # The secret in the download and verify links (/potvrzeni/<token>).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(default=0)

    payment: Mapped[Payment] = relationship()
    municipality: Mapped[Municipality] = relationship()
