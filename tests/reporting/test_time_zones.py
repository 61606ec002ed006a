"""Time zones: instants are ``timestamptz`` and come back as aware UTC, so the monthly
report and ``flask report verify`` are right whatever the database session's time zone
(PGTZ=Europe/Prague, or a server set to Czech time), and on SQLite too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from app.db import db_session
from app.models import Payment, PaymentState
from app.payments import transitions
from app.payments.transitions import transition_payment
from app.reporting.monthly import build_monthly_report
from app.reporting.summary import verify_month
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_service

# 23:30 in Prague (summer time) on the last day of June.
LAST_EVENING = datetime(2026, 6, 30, 21, 30, tzinfo=UTC)


@pytest.fixture
def prague_session_app(postgres_url: str, monkeypatch):  # type: ignore[no-untyped-def]
    """The app on PostgreSQL with every connection's session in Europe/Prague."""
    url = postgres_url + ("&" if "?" in postgres_url else "?") + "options=-c%20timezone%3DEurope%2FPrague"
    app = make_test_app(url)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def _pay_at(moment: datetime, monkeypatch) -> Payment:  # type: ignore[no-untyped-def]
    s = make_service(make_municipality(), amount=48000)
    p = make_payment(s, created_at=moment - timedelta(minutes=5))
    monkeypatch.setattr(transitions, "utcnow", lambda: moment)
    transition_payment(p, PaymentState.STARTED, reason="test")
    transition_payment(p, PaymentState.PAID, reason="test")
    db_session.commit()
    return p


def test_a_payment_on_a_months_last_evening_stays_in_that_month_with_a_prague_session(
    prague_session_app, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    assert db_session.scalar(text("SHOW TIME ZONE")) == "Europe/Prague"
    columns = {c["name"]: c["type"] for c in inspect(db_session.get_bind()).get_columns("payment")}
    assert columns["paid_at"].timezone is True  # timestamptz
    p = _pay_at(LAST_EVENING, monkeypatch)
    db_session.expire_all()
    stored = db_session.scalar(select(Payment.paid_at).where(Payment.id == p.id))
    assert stored == LAST_EVENING and stored.tzinfo is not None
    assert verify_month(2026, 6) == [] and verify_month(2026, 7) == []
    june, july = build_monthly_report(2026, 6), build_monthly_report(2026, 7)
    assert june.total.current.count == 1 and june.total.current.volume == 48000
    assert july.total.current.count == 0
    result = prague_session_app.test_cli_runner().invoke(args=["report", "verify", "2026-06"])
    assert result.exit_code == 0, result.output


def test_instants_come_back_aware_utc_on_any_database(any_db_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    p = _pay_at(LAST_EVENING, monkeypatch)
    db_session.expire_all()
    again = db_session.get(Payment, p.id)
    assert again.paid_at == LAST_EVENING and again.paid_at.utcoffset() == timedelta(0)
    assert again.created_at.tzinfo is not None
    # A naive value is taken as UTC, an aware one is converted to UTC.
    again.updated_at = datetime(2026, 7, 1, 1, 0, tzinfo=UTC).astimezone(UTC).replace(tzinfo=None)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Payment, p.id).updated_at == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert verify_month(2026, 6) == []
