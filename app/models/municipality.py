"""A municipality (obec) that has joined, or may join, the portal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class OnboardingState(StrEnum):
    NOT_CONTACTED = "not_contacted"
    CONTACTED = "contacted"
    INTERESTED = "interested"
    IN_PREPARATION = "in_preparation"
    CONTRACT_SIGNED = "contract_signed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    ico: Mapped[str] = mapped_column(String(8), unique=True)
    district: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(40))  # obec / městys / město
    population: Mapped[int | None]
    iban: Mapped[str | None] = mapped_column(String(34))
    email: Mapped[str | None] = mapped_column(String(254))
    onboarding_state: Mapped[str] = mapped_column(
        String(20), default=OnboardingState.NOT_CONTACTED, index=True
    )
    # Demo mode: only the demo gateway is offered, whatever the services allow.
    demo_mode: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    services: Mapped[list[Service]] = relationship(  # noqa: F821
        back_populates="municipality", order_by="Service.name"
    )

    @property
    def is_active(self) -> bool:
        return self.onboarding_state == OnboardingState.ACTIVE
