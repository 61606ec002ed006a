"""Reminders of obligations by e-mail: one row per obligation and kind of reminder, so a
reminder is never sent twice, and the addresses that asked for no more reminders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class ReminderKind(StrEnum):
    BEFORE_DUE = "before_due"
    AFTER_DUE = "after_due"


class ObligationReminder(Base):
    __tablename__ = "obligation_reminder"
    __table_args__ = (UniqueConstraint("obligation_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Set when the mail server took it; a row without it is retried by the next run.
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderOptOut(Base):
    """An address that unsubscribed from a municipality's reminders (the signed link in
    every reminder). Kept across payer-list imports."""

    __tablename__ = "reminder_opt_out"
    __table_args__ = (UniqueConstraint("municipality_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    email: Mapped[str] = mapped_column(String(254))  # lower case
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
