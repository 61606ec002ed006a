"""A municipality (obec) that has joined, or may join, the portal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.czech import czech, fold
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


def _services_order():  # type: ignore[no-untyped-def]
    from app.models.service import Service

    return czech(Service.name)


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name in lower case without diacritics (app.czech.fold), kept by the ORM: citizens
    # search "ceska lipa" on both databases without the unaccent extension.
    search_name: Mapped[str] = mapped_column(String(200), default="", index=True)
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
    # Reminders of obligations by e-mail: days before and after the due date; None = none.
    reminder_days_before: Mapped[int | None]
    reminder_days_after: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)

    region: Mapped[Region] = relationship()  # noqa: F821
    services: Mapped[list[Service]] = relationship(  # noqa: F821
        back_populates="municipality", order_by=lambda: _services_order()
    )

    @validates("name")
    def _keep_search_name(self, _key: str, value: str) -> str:
        self.search_name = fold(value)
        return value

    @property
    def is_active(self) -> bool:
        return self.onboarding_state == OnboardingState.ACTIVE
