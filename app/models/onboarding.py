"""History of the onboarding pipeline and of services being switched on and off.

``Municipality.onboarding_state`` and ``Service.active`` are the current values; these
append-only tables say what they were on any past date (the monthly report is "as of the
last day of the month", whenever it is built).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db import Base, utcnow


class MunicipalityStateChange(Base):
    __tablename__ = "municipality_state_change"
    __table_args__ = (Index("ix_municipality_state_change_asof", "municipality_id", "effective_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    from_state: Mapped[str | None] = mapped_column(String(20))  # None: the first record
    to_state: Mapped[str] = mapped_column(String(20))
    # The day the change took effect (a Prague calendar day), which may precede the day
    # it was recorded.
    effective_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    # The staff member who recorded it; None for the system (seed, imports).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship()  # noqa: F821


class ServiceStateChange(Base):
    __tablename__ = "service_state_change"
    __table_args__ = (Index("ix_service_state_change_asof", "service_id", "effective_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    active: Mapped[bool]
    effective_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship()  # noqa: F821


# -- keeping history complete ---------------------------------------------------------
# The pipeline functions (app.onboarding.pipeline) write a change with its date, note
# and author. Code that sets Municipality.onboarding_state or Service.active directly
# (a new municipality, a clerk switching a service off) still leaves a record, dated
# today, so the current value and the last record never disagree.
@event.listens_for(Session, "before_flush")
def _record_missing_history(session: Session, _flush_context: object, _instances: object) -> None:
    from app.models.municipality import Municipality, OnboardingState
    from app.models.service import Service
    from app.timeutil import prague_today

    recorded_m: set[int] = set()
    recorded_s: set[int] = set()
    for obj in session.new:
        if isinstance(obj, MunicipalityStateChange):
            target = obj.__dict__.get("municipality")
            recorded_m.add(id(target) if target is not None else ("id", obj.municipality_id))  # type: ignore[arg-type]
        elif isinstance(obj, ServiceStateChange):
            target = obj.__dict__.get("service")
            recorded_s.add(id(target) if target is not None else ("id", obj.service_id))  # type: ignore[arg-type]

    def covered(obj: object, recorded: set) -> bool:  # type: ignore[type-arg]
        return id(obj) in recorded or ("id", getattr(obj, "id", None)) in recorded

    today = prague_today()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Municipality):
            state = obj.onboarding_state or OnboardingState.NOT_CONTACTED
            if obj in session.new:
                # No record means "not contacted": a new municipality needs none, and its
                # pipeline can then be entered with past dates.
                if state == OnboardingState.NOT_CONTACTED:
                    continue
                before = None
            else:
                hist = inspect(obj).attrs.onboarding_state.history
                if not hist.has_changes() or (hist.deleted and hist.deleted[0] == state):
                    continue
                before = hist.deleted[0] if hist.deleted else None
            if not covered(obj, recorded_m):
                session.add(
                    MunicipalityStateChange(
                        municipality=obj, from_state=before, to_state=state, effective_date=today
                    )
                )
        elif isinstance(obj, Service):
            active = True if obj.active is None else bool(obj.active)
            if obj not in session.new:
                hist = inspect(obj).attrs.active.history
                if not hist.has_changes() or (hist.deleted and bool(hist.deleted[0]) == active):
                    continue
            if not covered(obj, recorded_s):
                session.add(ServiceStateChange(service=obj, active=active, effective_date=today))
