"""Citizen accounts: created at the first login through an identity provider.

An account is keyed by the provider's name and its subject (Bank iD ``sub``, NIA
``PersonIdentifier``). A birth number is never stored: only its keyed HMAC, and only when
the citizen consented to being matched by it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

if TYPE_CHECKING:
    from app.models.municipality import Municipality


class Citizen(Base):
    __tablename__ = "citizen"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    # HMAC-SHA256 (hex) of the normalised birth number, keyed by a key derived from
    # SECRET_KEY; set only while the citizen consents to matching by birth number.
    birth_number_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    birth_number_consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    customer_ids: Mapped[list[CitizenCustomerId]] = relationship(
        back_populates="citizen", cascade="all, delete-orphan", order_by="CitizenCustomerId.id"
    )


class CitizenCustomerId(Base):
    """A customer ID ("číslo plátce") the citizen says is theirs in one municipality."""

    __tablename__ = "citizen_customer_id"
    __table_args__ = (UniqueConstraint("citizen_id", "municipality_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    customer_id: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(back_populates="customer_ids")
    municipality: Mapped[Municipality] = relationship()
