"""Versioned legal texts (terms, privacy notice) and the consents given to them.

A text is never edited in place: a change is a new version, so a consent always points
at the exact words the citizen saw (its hash proves it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class ConsentKind(StrEnum):
    TERMS = "terms"  # obchodní podmínky
    PRIVACY = "privacy"  # zásady zpracování osobních údajů


class ConsentText(Base):
    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # sha256 of the body (UTF-8), hex: what the consent record keeps.
    hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(Base):
    """One row per text agreed to (or acknowledged) before a payment. No IP address:
    the payment already identifies the act, and we keep no more than we need."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("consent_text.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("payment.id"), index=True
    )
    # The logged-in citizen; erasing the account unlinks the record (it stays as proof).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    text: Mapped[ConsentText] = relationship()
