"""The public statistics: per region and Prague month, the joined municipalities and the
active services at the month's end and the settled payments by channel.

The rules are the monthly report's (app.reporting.monthly): a municipality is joined on a
day when its latest onboarding change by then made it active; a service is active when
its latest change by then switched it on and its municipality was joined; a payment
counts in the Prague month of its ``paid_at`` (refunds are not subtracted).

Three queries a year and area: the payment summary grouped by region, month and gateway
(never the payments themselves), and the two onboarding histories, walked once in Python
for the twelve month ends. ``year_figures`` keeps the result in the cache
(``STATISTICS_CACHE_SECONDS``); it holds aggregates only, no names of people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.czech import sort_key
from app.db import db_session, utcnow
from app.extensions import cache
from app.models import (
    Municipality,
    MunicipalityStateChange,
    OnboardingState,
    PaymentMonthSummary,
    Region,
    Service,
    ServiceStateChange,
)
from app.reporting.summary import Figures
from app.statistics.channels import CHANNELS, payment_channel
from app.timeutil import last_day, prague_today

FIRST_YEAR = 2000


@dataclass(frozen=True)
class Area:
    """A region (or the country: ``id`` None)."""

    id: int | None
    slug: str | None
    name: str
    nuts_code: str | None  # CZ051; "CZ" for the country; None for a fictional region


@dataclass
class MonthRow:
    month: date  # the month's first day
    region: Area
    joined: int = 0
    active_services: int = 0
    channels: dict[str, Figures] = field(default_factory=lambda: {c: Figures() for c in CHANNELS})

    @property
    def total(self) -> Figures:
        out = Figures()
        for f in self.channels.values():
            out.add(f.count, f.volume)
        return out


@dataclass
class YearFigures:
    year: int
    area: Area
    regions: list[Area]  # in Czech order
    rows: list[MonthRow]  # per region and month, months up to the current one
    # When figures equal to these were first computed (the HTTP Last-Modified): unchanged
    # figures keep the time across recomputations (remembered in the cache for a day).
    modified_at: datetime
    digest: str = ""

    def months(self) -> list[MonthRow]:
        """The area's rows per month (the regions added up)."""
        by_month: dict[date, MonthRow] = {}
        for r in self.rows:
            m = by_month.setdefault(r.month, MonthRow(r.month, self.area))
            _add(m, r)
        return [by_month[k] for k in sorted(by_month)]

    def by_region(self) -> list[MonthRow]:
        """Each region's year: joined and active services at the last month shown, payments
        of the whole year (``month`` is that last month)."""
        out: dict[int | None, MonthRow] = {}
        for r in sorted(self.rows, key=lambda r: r.month):
            row = out.setdefault(r.region.id, MonthRow(r.month, r.region))
            row.month, row.joined, row.active_services = r.month, r.joined, r.active_services
            for c, f in r.channels.items():
                row.channels[c].add(f.count, f.volume)
        return [out[a.id] for a in self.regions if a.id in out]

    def year_total(self) -> MonthRow:
        """The area's year: the last month's joined and services, the year's payments."""
        months = self.months()
        total = MonthRow(date(self.year, 12, 1), self.area)
        for m in months:
            for c, f in m.channels.items():
                total.channels[c].add(f.count, f.volume)
        if months:
            total.month, total.joined, total.active_services = (
                months[-1].month,
                months[-1].joined,
                months[-1].active_services,
            )
        return total


def _add(into: MonthRow, row: MonthRow) -> None:
    into.joined += row.joined
    into.active_services += row.active_services
    for c, f in row.channels.items():
        into.channels[c].add(f.count, f.volume)


COUNTRY = Area(None, None, "Česká republika", "CZ")


def area_of(region: Region | None) -> Area:
    return COUNTRY if region is None else Area(region.id, region.slug, region.name, region.nuts_code)


def month_starts(year: int, today: date | None = None) -> list[date]:
    """The year's months up to the current Prague month (none for a future year)."""
    today = today or prague_today()
    return [date(year, m, 1) for m in range(1, 13) if date(year, m, 1) <= today]


def available_years(*, session: Session | None = None) -> list[int]:
    """From the first year with a payment or an onboarding record to this year (cached
    like the figures)."""
    timeout = int(current_app.config.get("STATISTICS_CACHE_SECONDS", 60))
    key = "statistics:years"
    if timeout > 0:
        try:
            hit = cache.get(key)
        except RedisError:
            return _available_years(session or db_session())
        if isinstance(hit, list) and hit and hit[-1] == prague_today().year:
            return hit
    years = _available_years(session or db_session())
    if timeout > 0:
        try:
            cache.set(key, years, timeout=timeout)
        except RedisError:
            pass
    return years


def _available_years(session: Session) -> list[int]:
    firsts = [
        session.scalar(select(func.min(PaymentMonthSummary.month))),
        session.scalar(select(func.min(MunicipalityStateChange.effective_date))),
    ]
    this_year = prague_today().year
    first = min((d.year for d in firsts if d is not None), default=this_year)
    return list(range(max(first, FIRST_YEAR), this_year + 1))


def _at_month_ends(changes: Iterable[tuple[int, date, object]], ends: list[date]) -> Iterator[tuple[int, list[object]]]:
    """(key, value at each end) from changes ordered by key, day and id: the value of the
    latest change dated on or before each end (None before the first)."""

    def at_ends(pending: list[tuple[date, object]]) -> list[object]:
        out, j, value = [], 0, None
        for end in ends:
            while j < len(pending) and pending[j][0] <= end:
                value = pending[j][1]
                j += 1
            out.append(value)
        return out

    key: int | None = None
    pending: list[tuple[date, object]] = []
    for k, day, value in changes:
        if k != key:
            if key is not None:
                yield key, at_ends(pending)
            key, pending = k, []
        pending.append((day, value))
    if key is not None:
        yield key, at_ends(pending)


def compute_year_figures(year: int, region: Region | None = None, *, session: Session | None = None) -> YearFigures:
    """The figures of ``year`` for a region (the country when None), straight from the database."""
    session = session or db_session()
    months = month_starts(year)
    ends = [last_day(m.year, m.month) for m in months]
    regions_q = select(Region.id, Region.slug, Region.name, Region.nuts_code)
    if region is not None:
        regions_q = regions_q.where(Region.id == region.id)
    regions = sorted((Area(*r) for r in session.execute(regions_q)), key=lambda a: sort_key(a.name))
    rows = {(a.id, m): MonthRow(m, a) for a in regions for m in months}
    fig = YearFigures(year, area_of(region), regions, [], utcnow())
    if months:
        year_end = ends[-1]

        def scoped(stmt):  # type: ignore[no-untyped-def]
            return stmt if region is None else stmt.where(Municipality.region_id == region.id)

        # Joined municipalities at each month's end.
        msc = MunicipalityStateChange
        region_of: dict[int, int] = {}
        joined_at: dict[int, list[bool]] = {}
        history = session.execute(
            scoped(
                select(msc.municipality_id, msc.effective_date, msc.to_state, Municipality.region_id)
                .join(Municipality, Municipality.id == msc.municipality_id)
                .where(msc.effective_date <= year_end)
                .order_by(msc.municipality_id, msc.effective_date, msc.id)
            )
        ).all()
        for mid, _day, _state, rid in history:
            region_of[mid] = rid
        for mid, states in _at_month_ends(((m, d, s) for m, d, s, _r in history), ends):
            joined_at[mid] = [s == OnboardingState.ACTIVE for s in states]
            for m, active in zip(months, joined_at[mid], strict=True):
                if active:
                    rows[(region_of[mid], m)].joined += 1

        # Active services (of joined municipalities) at each month's end.
        ssc = ServiceStateChange
        services = session.execute(
            scoped(
                select(ssc.service_id, ssc.effective_date, ssc.active, Service.municipality_id)
                .join(Service, Service.id == ssc.service_id)
                .join(Municipality, Municipality.id == Service.municipality_id)
                .where(ssc.effective_date <= year_end)
                .order_by(ssc.service_id, ssc.effective_date, ssc.id)
            )
        ).all()
        municipality_of = {sid: mid for sid, _d, _a, mid in services}
        for sid, flags in _at_month_ends(((s, d, a) for s, d, a, _m in services), ends):
            mid = municipality_of[sid]
            joined = joined_at.get(mid)
            if joined is None:
                continue
            for m, on, municipality_on in zip(months, flags, joined, strict=True):
                if on and municipality_on:
                    rows[(region_of[mid], m)].active_services += 1

        # Settled payments by channel, from the summary.
        t = PaymentMonthSummary
        paid = session.execute(
            scoped(
                select(Municipality.region_id, t.month, t.gateway_name, func.sum(t.paid_count), func.sum(t.paid_volume))
                .join(Municipality, Municipality.id == t.municipality_id)
                .where(t.month >= months[0], t.month <= months[-1], t.paid_count > 0)
                .group_by(Municipality.region_id, t.month, t.gateway_name)
            )
        )
        for rid, month, gateway, count, volume in paid:
            rows[(rid, month)].channels[payment_channel(gateway)].add(int(count), int(volume or 0))
    fig.rows = [rows[k] for k in sorted(rows, key=lambda k: (k[1], sort_key(rows[k].region.name)))]
    fig.digest = _digest(fig)
    return fig


def _digest(fig: YearFigures) -> str:
    text = repr(
        (
            fig.year,
            fig.area,
            fig.regions,
            [
                (
                    r.month,
                    r.region.id,
                    r.joined,
                    r.active_services,
                    sorted((c, f.count, f.volume) for c, f in r.channels.items()),
                )
                for r in fig.rows
            ],
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


SEEN_SECONDS = 24 * 3600


def _first_seen(digest: str, now: datetime) -> datetime:
    key = f"statistics:seen:{digest}"
    seen = cache.get(key)
    if isinstance(seen, datetime):
        return seen
    cache.set(key, now, timeout=SEEN_SECONDS)
    return now


def year_figures(year: int, region: Region | None = None) -> YearFigures:
    """``compute_year_figures`` through the cache (Redis when configured, else in the
    process) for ``STATISTICS_CACHE_SECONDS``; a cache that does not answer is skipped
    for the rest of the call."""
    timeout = int(current_app.config.get("STATISTICS_CACHE_SECONDS", 60))
    key = f"statistics:{region.slug if region else '-'}:{year}"
    if timeout > 0:
        try:
            hit = cache.get(key)
        except RedisError:
            return compute_year_figures(year, region)
        if isinstance(hit, YearFigures):
            return hit
    fig = compute_year_figures(year, region)
    try:
        fig.modified_at = _first_seen(fig.digest, fig.modified_at)
        if timeout > 0:
            cache.set(key, fig, timeout=timeout)
    except RedisError:
        pass
    return fig
