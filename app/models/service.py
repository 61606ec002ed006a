"""A payable service of a municipality (a fee: waste, dog, stay, public space…)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class AmountMode(StrEnum):
    FIXED = "fixed"  # the service has one price
    PAYER = "payer"  # the payer enters the amount, within min and max


class VariableSymbolRule(StrEnum):
    FIXED = "fixed"  # every payment carries the service's variable symbol
    PER_PAYMENT = "per_payment"  # each payment gets its own, prefixed by the service's


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("municipality_id", "slug"),
        # The target of obligation's composite key (service, municipality).
        UniqueConstraint("id", "municipality_id"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_mode: Mapped[str] = mapped_column(String(10), default=AmountMode.FIXED)
    amount: Mapped[int | None]  # haléře, for FIXED
    amount_min: Mapped[int | None]  # haléře, for PAYER
    amount_max: Mapped[int | None]
    vs_rule: Mapped[str] = mapped_column(String(20), default=VariableSymbolRule.PER_PAYMENT)
    variable_symbol: Mapped[str | None] = mapped_column(String(10))
    constant_symbol: Mapped[str | None] = mapped_column(String(4))
    # The account the fee is paid to; None = the municipality's account.
    iban: Mapped[str | None] = mapped_column(String(34))
    period: Mapped[str | None] = mapped_column(String(40))
    due_date: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    allowed_gateways: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["demo"])
    # Payer lists (obligations): whether the payer looks up what they owe, and how the
    # paid amount must match what is left (app.models.obligation.LookupMode/AmountMatch).
    lookup_mode: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    amount_match: Mapped[str] = mapped_column(String(10), default="exact", server_default="exact")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="services")  # noqa: F821
