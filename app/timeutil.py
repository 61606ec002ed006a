"""Time in one place: Europe/Prague conversions, day and month boundaries, the Czech
calendar (public holidays, working days).

The database keeps instants as ``timestamptz`` and gives them back as aware UTC on every
database (app.db.UTCDateTime); people live in Prague days and months (a payment at 23:30
UTC on 31 December was paid on 1 January in Prague). So boundaries are computed here as
aware UTC instants, and stored times are shown through ``to_prague``. Public holidays follow Act 245/2000 Sb.: the fixed
days plus Good Friday and Easter Monday.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo

PRAGUE = ZoneInfo("Europe/Prague")

# (month, day, name)
FIXED_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "Den obnovy samostatného českého státu, Nový rok"),
    (5, 1, "Svátek práce"),
    (5, 8, "Den vítězství"),
    (7, 5, "Den slovanských věrozvěstů Cyrila a Metoděje"),
    (7, 6, "Den upálení mistra Jana Husa"),
    (9, 28, "Den české státnosti"),
    (10, 28, "Den vzniku samostatného československého státu"),
    (11, 17, "Den boje za svobodu a demokracii a Mezinárodní den studentstva"),
    (12, 24, "Štědrý den"),
    (12, 25, "1. svátek vánoční"),
    (12, 26, "2. svátek vánoční"),
)


def czech_date(day: date) -> str:
    """31. 12. 2025"""
    return f"{day.day}. {day.month}. {day.year}"


def prague_today() -> date:
    return datetime.now(PRAGUE).date()


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    days = {date(year, m, d): name for m, d, name in FIXED_HOLIDAYS}
    easter = easter_sunday(year)
    days[easter - timedelta(days=2)] = "Velký pátek"
    days[easter + timedelta(days=1)] = "Velikonoční pondělí"
    return days


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
