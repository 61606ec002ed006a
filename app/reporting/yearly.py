"""The yearly indicators, in the shape of the portal section of the annual report:
the state at 30 June and at 31 December (joined municipalities, active services,
municipalities before contract and interested) and the payments with their volume per
month (card gateways, Bitcoin and bank transfers beside the total), each half-year's
total and the year's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import read_session, utcnow
from app.models import OnboardingState, PaymentMonthSummary
from app.onboarding.pipeline import snapshot_on
from app.regions import RegionLabel, region_label
from app.regions.scope import in_region
from app.reporting.monthly import channel_kind, month_name
from app.reporting.summary import Figures

MONTH_TITLES = (
    "Leden", "Únor", "Březen", "Duben", "Květen", "Červen",
    "Červenec", "Srpen", "Září", "Říjen", "Listopad", "Prosinec",
)  # fmt: skip


@dataclass
class StatePoint:
    day: date
    joined: int
    active_services: int
    in_preparation: int  # "před podpisem smlouvy – v přípravě"
    interested: int
    contract_signed: int


@dataclass
class MonthFigures:
    month: int
    label: str  # "Leden 2025"
    total: Figures = field(default_factory=Figures)
    card: Figures = field(default_factory=Figures)
    bitcoin: Figures = field(default_factory=Figures)
    transfer: Figures = field(default_factory=Figures)


@dataclass
class YearlyIndicators:
    year: int
    generated_at: datetime
    previous_year_end: StatePoint
    mid_year: StatePoint
    year_end: StatePoint
    months: list[MonthFigures]
    # Whose indicators: a region, or None for the whole country (every region).
    region: RegionLabel | None = None

    @property
    def region_name(self) -> str | None:
        return self.region.name if self.region else None

    def _sum(self, months: list[MonthFigures], attr: str = "total") -> Figures:
        out = Figures()
        for m in months:
            f = getattr(m, attr)
            out.add(f.count, f.volume)
        return out

    @property
    def first_half(self) -> list[MonthFigures]:
        return self.months[:6]

    @property
    def second_half(self) -> list[MonthFigures]:
        return self.months[6:]

    @property
    def first_half_total(self) -> Figures:
        return self._sum(self.first_half)

    @property
    def second_half_total(self) -> Figures:
        return self._sum(self.second_half)

    @property
    def year_total(self) -> Figures:
        return self._sum(self.months)

    @property
    def has_transfers(self) -> bool:
        return self._sum(self.months, "transfer").count > 0

    @property
    def has_bitcoin(self) -> bool:
        return self._sum(self.months, "bitcoin").count > 0

    @property
    def halves(self) -> list[tuple[StatePoint, list[MonthFigures], Figures]]:
        """The annual report's two blocks: the state at the half-year's end, its months, total."""
        return [
            (self.mid_year, self.first_half, self.first_half_total),
            (self.year_end, self.second_half, self.second_half_total),
        ]


def state_point(day: date, *, session: Session | None = None, region_id: int | None = None) -> StatePoint:
    snap = snapshot_on(day, session=session or read_session(), region_id=region_id)
    return StatePoint(
        day=day,
        joined=snap.counts[OnboardingState.ACTIVE],
        active_services=snap.active_services,
        in_preparation=snap.counts[OnboardingState.IN_PREPARATION],
        interested=snap.counts[OnboardingState.INTERESTED],
        contract_signed=snap.counts[OnboardingState.CONTRACT_SIGNED],
    )


def payments_by_month(year: int, *, session: Session | None = None, region_id: int | None = None) -> list[MonthFigures]:
    """Settled payments per Prague month of their paid_at (from the payment summary), of
    one region's municipalities (or all, for None)."""
    session = session or read_session()
    t = PaymentMonthSummary
    stmt = (
        select(t.month, t.gateway_name, func.sum(t.paid_count), func.sum(t.paid_volume))
        .where(t.month >= date(year, 1, 1), t.month <= date(year, 12, 1), t.paid_count > 0,
               in_region(t.municipality_id, region_id))
        .group_by(t.month, t.gateway_name)
    )
    months = [MonthFigures(m, f"{month_name(m).capitalize()} {year}") for m in range(1, 13)]
    for month, gateway, count, volume in session.execute(stmt):
        row = months[month.month - 1]
        row.total.add(int(count), int(volume or 0))
        getattr(row, channel_kind(gateway)).add(int(count), int(volume or 0))
    return months


def build_yearly_indicators(year: int, *, session: Session | None = None,
                            region_id: int | None = None) -> YearlyIndicators:
    """The year's indicators of one region (``region_id``) or of every region (None)."""
    session = session or read_session()
    return YearlyIndicators(
        year=year,
        generated_at=utcnow(),
        previous_year_end=state_point(date(year - 1, 12, 31), session=session, region_id=region_id),
        mid_year=state_point(date(year, 6, 30), session=session, region_id=region_id),
        year_end=state_point(date(year, 12, 31), session=session, region_id=region_id),
        months=payments_by_month(year, session=session, region_id=region_id),
        region=region_label(session, region_id),
    )
