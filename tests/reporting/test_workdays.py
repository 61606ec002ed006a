"""The Czech calendar: Easter, public holidays, working days, Prague months in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.reporting.monthly import ReportPeriodError, due_date, parse_period
from app.timeutil import (
    add_working_days,
    easter_sunday,
    first_working_day,
    is_working_day,
    month_bounds_utc,
    public_holidays,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2019, date(2019, 4, 21)),
     (2038, date(2038, 4, 25)), (2008, date(2008, 3, 23))],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_public_holidays_include_good_friday_and_easter_monday() -> None:
    days = public_holidays(2025)
    assert len(days) == 13
    assert date(2025, 4, 18) in days and date(2025, 4, 21) in days
    assert date(2025, 4, 20) not in days  # Easter Sunday is a Sunday anyway
    assert {date(2025, 12, 24), date(2025, 12, 25), date(2025, 12, 26), date(2025, 1, 1)} <= days.keys()
    assert is_working_day(date(2025, 7, 7))  # the Monday after 5 and 6 July
    assert not is_working_day(date(2025, 7, 5)) and not is_working_day(date(2025, 10, 28))


def test_working_days_skip_christmas() -> None:
    # Fri 19 Dec 2025 → Mon 22 (1), Tue 23 (2), 24–26 holidays, weekend, Mon 29 (3).
    assert add_working_days(date(2025, 12, 19), 3) == date(2025, 12, 29)
    with pytest.raises(ValueError):
        add_working_days(date(2025, 12, 19), 0)


@pytest.mark.parametrize(
    ("period", "due"),
    [
        # 31 Dec 2025 (Wed); 1 Jan is a holiday: 2 Jan is the 1st working day … 22 Jan the 15th.
        ((2025, 12), date(2026, 1, 22)),
        # 31 Mar 2025; Good Friday 18 Apr and Easter Monday 21 Apr are skipped.
        ((2025, 3), date(2025, 4, 23)),
        # 30 Apr 2025; 1 and 8 May are holidays.
        ((2025, 4), date(2025, 5, 23)),
        # 30 Nov 2025 is a Sunday; no holidays until 19 Dec.
        ((2025, 11), date(2025, 12, 19)),
        # 31 Mar 2024 is Easter Sunday, 1 Apr Easter Monday.
        ((2024, 3), date(2024, 4, 22)),
    ],
)
def test_due_date_is_15_working_days_after_month_end(period: tuple[int, int], due: date) -> None:
    assert due_date(*period) == due


def test_first_working_day() -> None:
    assert first_working_day(2026, 1) == date(2026, 1, 2)
    assert first_working_day(2025, 11) == date(2025, 11, 3)
    assert first_working_day(2025, 12) == date(2025, 12, 1)
    assert first_working_day(2026, 5) == date(2026, 5, 4)  # Fri 1 May holiday, weekend


def test_prague_months_in_utc_across_daylight_saving() -> None:
    def utc(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)

    # March 2025: starts in CET (UTC+1), ends in CEST (UTC+2, from 30 March).
    assert month_bounds_utc(2025, 3) == (utc(2025, 2, 28, 23), utc(2025, 3, 31, 22))
    # October 2025: starts in CEST, ends in CET (from 26 October).
    assert month_bounds_utc(2025, 10) == (utc(2025, 9, 30, 22), utc(2025, 10, 31, 23))
    assert month_bounds_utc(2025, 12) == (utc(2025, 11, 30, 23), utc(2025, 12, 31, 23))


def test_parse_period() -> None:
    assert parse_period("2026-01") == (2026, 1)
    for bad in ("2026-13", "2026-1x", "26-01", "", "2026/01", "2026-00", "<script>"):
        with pytest.raises(ReportPeriodError):
            parse_period(bad)
