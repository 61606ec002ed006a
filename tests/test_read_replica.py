"""DATABASE_REPLICA_URL: the reports read the read replica, payments are written to the
primary; without the setting everything reads the primary (PostgreSQL, two databases).

The "replica" here is a second database holding different figures than the primary, so
which one a read went to shows in the result."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from app.db import db_session, read_session, replica_session, utcnow
from app.models import Municipality, OnboardingState, Payment, PaymentMonthSummary, PaymentState, Service
from app.payments.transitions import transition_payment
from app.regions import get_or_create_region
from app.reporting.monthly import build_monthly_report
from app.reporting.yearly import build_yearly_indicators
from app.timeutil import to_prague
from tests.conftest import make_test_app, prepare_schema, temporary_postgres_database
from tests.factories import make_payment, make_service

pytestmark = pytest.mark.postgres

REPLICA_COUNT, REPLICA_VOLUME = 7, 7 * 45_000


@pytest.fixture
def replica_url() -> Iterator[str]:
    with temporary_postgres_database("portal_replica") as url:
        prepare_schema(url)
        yield url


@pytest.fixture
def replica_app(postgres_url: str, replica_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url, DATABASE_REPLICA_URL=replica_url)
    with app.app_context():
        yield app
        db_session.remove()
        replica_session.remove()
    app.extensions["db_engine"].dispose()
    app.extensions["db_replica_engine"].dispose()


def this_month() -> tuple[int, int]:
    now = to_prague(utcnow())
    return now.year, now.month


def fill_replica(year: int, month: int) -> None:
    """What the replica holds: one municipality with 7 payments this month in the summary."""
    s = replica_session()
    region = get_or_create_region(s, None)
    m = Municipality(
        name="Obec na replice",
        slug="obec-na-replice",
        ico="00262978",
        onboarding_state=OnboardingState.ACTIVE,
        region_id=region.id,
    )
    s.add(m)
    s.flush()
    service = Service(municipality_id=m.id, slug="odpad", name="Poplatek za odpad", amount=45_000)
    s.add(service)
    s.flush()
    s.add(
        PaymentMonthSummary(
            month=date(year, month, 1),
            municipality_id=m.id,
            service_id=service.id,
            gateway_name="demo",
            paid_count=REPLICA_COUNT,
            paid_volume=REPLICA_VOLUME,
            refund_count=0,
            refund_volume=0,
        )
    )
    s.commit()


def pay_on_primary() -> Payment:
    payment = make_payment(make_service(amount=10_000), state=PaymentState.STARTED)
    transition_payment(payment, PaymentState.PAID, reason="test")
    db_session.commit()
    return payment


def test_reports_read_the_replica_and_payments_write_the_primary(replica_app) -> None:  # type: ignore[no-untyped-def]
    year, month = this_month()
    fill_replica(year, month)
    payment = pay_on_primary()

    assert read_session() is replica_session()
    report = build_monthly_report(year, month)
    assert (report.total.current.count, report.total.current.volume) == (REPLICA_COUNT, REPLICA_VOLUME)
    assert [line.label for line in report.by_municipality] == ["Obec na replice"]
    yearly = build_yearly_indicators(year)
    assert yearly.months[month - 1].total.count == REPLICA_COUNT

    # The payment and its summary row went to the primary only.
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db_session.get(Payment, payment.id).state == PaymentState.PAID
    assert db_session.scalar(select(func.sum(PaymentMonthSummary.paid_count))) == 1
    assert replica_session().scalar(select(func.count()).select_from(Payment)) == 0

    # Asked explicitly, a report still reads the session it is given (the primary here).
    primary = build_monthly_report(year, month, session=db_session())
    assert (primary.total.current.count, primary.total.current.volume) == (1, 10_000)


def test_without_the_setting_reports_read_the_primary(app) -> None:  # type: ignore[no-untyped-def]
    assert app.config["DATABASE_REPLICA_URL"] is None
    assert app.extensions["db_replica_engine"] is None
    assert read_session() is db_session()
    year, month = this_month()
    pay_on_primary()
    report = build_monthly_report(year, month)
    assert (report.total.current.count, report.total.current.volume) == (1, 10_000)
