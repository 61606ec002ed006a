"""Time in one place: Europe/Prague conversions, day and month boundaries, the Czech
calendar (public holidays, working days).

The database keeps instants as ``timestamptz`` and gives them back as aware UTC on every
database (app.db.UTCDateTime); people live in Prague days and months (a payment at 23:30
UTC on 31 December was paid on 1 January in Prague). So boundaries are computed here as
aware UTC instants, and stored times are shown through ``to_prague``. Public holidays
(Act 245/2000 Sb.) come from the ``holidays`` package.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo

import holidays

PRAGUE = ZoneInfo("Europe/Prague")


def czech_date(day: date) -> str:
    """31. 12. 2025"""
    return f"{day.day}. {day.month}. {day.year}"


def prague_today() -> date:
    return datetime.now(PRAGUE).date()


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    """The Czech public holidays of ``year`` with their Czech names (the ``holidays`` package)."""
    return dict(holidays.country_holidays("CZ", years=year, language="cs"))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after ``day`` (``day`` itself does not count)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    current = day
    while n:
        current += timedelta(days=1)
        if is_working_day(current):
            n -= 1
    return current


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def prague_midnight_utc(day: date) -> datetime:
    """The instant at which ``day`` begins in Prague, as aware UTC (stored times come back
    aware UTC too: app.db.UTCDateTime)."""
    local = datetime(day.year, day.month, day.day, tzinfo=PRAGUE)
    return local.astimezone(UTC)


def month_bounds_utc(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a Prague month, aware UTC."""
    ny, nm = shift_month(year, month, 1)
    return prague_midnight_utc(date(year, month, 1)), prague_midnight_utc(date(ny, nm, 1))


@overload
def to_prague(moment: datetime) -> datetime: ...
@overload
def to_prague(moment: None) -> None: ...
def to_prague(moment: datetime | None) -> datetime | None:
    """A stored time (naive UTC, or aware) in Prague time; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PRAGUE)
