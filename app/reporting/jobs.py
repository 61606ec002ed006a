"""Background jobs of reporting: the monthly e-mail."""

from __future__ import annotations

from datetime import date

from app.jobs import in_app
from app.reporting.dispatch import send_due_monthly_report


@in_app
def send_monthly_report(today: str | None = None) -> str:
    """On the first working day of a month, e-mail last month's report to the operator's
    staff (once: later runs that month do nothing). ``today``: ISO date, for tests."""
    return send_due_monthly_report(date.fromisoformat(today) if today else None)
