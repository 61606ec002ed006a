"""The monthly report's figures equal direct SQL counts on the same data (PostgreSQL).

The data goes through the real code: municipalities through the onboarding pipeline,
payments through ``transition_payment`` (with a test clock for the payment times), refunds
through ``apply_gateway_status`` as when the gateway reports them — so the payment summary
the report reads is kept by its transition listeners. The SQL below is written
independently: Prague months by PostgreSQL's own time-zone conversion, states as of a day
by DISTINCT ON, refund amounts by LAG over the events.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import OnboardingState, Payment, PaymentMonthSummary, PaymentState, ServiceStateChange
from app.onboarding.pipeline import change_onboarding_state, set_service_active
from app.payments import refunds as payment_refunds
from app.payments import transitions as payment_service
from app.payments.status import apply_gateway_status
from app.payments.transitions import transition_payment
from app.reporting.monthly import build_monthly_report
from app.reporting.summary import rebuild_payment_summary, verify_month
from gateway import GatewayStatus, StatusResult
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_service
from tests.reporting.sqlcheck import (
    month_end,
    sql_active_services,
    sql_newly_joined,
    sql_payments,
    sql_refunds,
    sql_states,
)

pytestmark = pytest.mark.postgres
S = PaymentState
O = OnboardingState  # noqa: E741


@pytest.fixture(scope="module")
def pg_app(postgres_url):  # type: ignore[no-untyped-def]
    """One app and one dataset for the whole module (building it takes a while)."""
    app = make_test_app(postgres_url)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


class Clock:
    """The payment service's clock, set to the time each test transition happens."""

    now = datetime(2025, 1, 1, tzinfo=UTC)

    def set(self, moment: datetime) -> None:
        self.now = moment.replace(tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- building the data through the real code -----------------------------------------
def pay(clock, service, at: datetime, amount: int | None = None, gateway: str = "demo", final=S.PAID):  # type: ignore[no-untyped-def]
    p = make_payment(service, amount=amount or service.amount or 12345, gateway_name=gateway,
                     created_at=at - timedelta(minutes=3))
    clock.set(at - timedelta(minutes=2))
    transition_payment(p, S.STARTED, reason="test")
    clock.set(at)
    transition_payment(p, final, reason="test")
    db_session.commit()
    return p


def refund(clock, payment, at: datetime, cumulative: int) -> None:  # type: ignore[no-untyped-def]
    clock.set(at)
    status = StatusResult(reference="ref", status=GatewayStatus.PAID, amount=payment.amount, amount_refunded=cumulative)
    apply_gateway_status(db_session.get(Payment, payment.id), status, source="test")
    db_session.commit()


def pipeline(*steps: tuple[str, date]):  # type: ignore[no-untyped-def]
    m = make_municipality(onboarding_state=O.NOT_CONTACTED)
    for state, day in steps:
        change_onboarding_state(m, state, day, note="test")
    db_session.commit()
    return m


def service(m, **kw):  # type: ignore[no-untyped-def]
    s = make_service(m, **kw)
    # Services of the test exist since 2024 (the automatic record is dated today).
    for rec in db_session.scalars(select(ServiceStateChange).where(ServiceStateChange.service_id == s.id)):
        rec.effective_date = date(2024, 1, 1)
    db_session.commit()
    return s


BOUNDARIES = [
    utc(2025, 1, 1), utc(2025, 3, 1), utc(2025, 3, 30, 1), utc(2025, 4, 1), utc(2025, 10, 1),
    utc(2025, 10, 26, 1), utc(2025, 11, 1), utc(2025, 12, 1), utc(2026, 1, 1), utc(2026, 2, 1),
]


@pytest.fixture(scope="module")
def dataset(pg_app):  # type: ignore[no-untyped-def]
    clock = Clock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(payment_service, "utcnow", lambda: clock.now)
        mp.setattr(payment_refunds, "utcnow", lambda: clock.now)  # when a Refund succeeds
        return _build(clock)


def _build(clock: Clock) -> dict:  # type: ignore[type-arg]
    a = pipeline((O.CONTACTED, date(2024, 5, 1)), (O.ACTIVE, date(2024, 6, 1)))
    b = pipeline((O.INTERESTED, date(2025, 10, 1)), (O.ACTIVE, date(2025, 12, 15)))
    c = pipeline((O.INTERESTED, date(2025, 11, 1)))
    d = pipeline((O.IN_PREPARATION, date(2025, 11, 20)), (O.CONTRACT_SIGNED, date(2025, 12, 20)),
                 (O.ACTIVE, date(2026, 1, 1)))
    e = pipeline((O.ACTIVE, date(2024, 9, 1)), (O.SUSPENDED, date(2025, 12, 20)))
    pipeline()  # never contacted
    edge = service(a, name="Hraniční časy")
    a2 = service(a, amount_mode="payer", amount=None, amount_min=100, amount_max=10_000_000)
    others = [a2, service(b), service(d), service(e), service(c)]
    set_service_active(a2, False, date(2025, 12, 10), note="konec sezóny")
    db_session.commit()

    # Boundaries, by hand in Prague time:
    pay(clock, edge, utc(2025, 12, 31, 23, 30))  # 1 Jan 2026 00:30 → January 2026
    pay(clock, edge, utc(2025, 12, 31, 22, 59, 59))  # 31 Dec 23:59:59 → December 2025
    pay(clock, edge, utc(2025, 3, 30, 0, 59))  # 30 Mar 01:59 CET, just before the switch → March
    pay(clock, edge, utc(2025, 3, 31, 21, 59, 59))  # 31 Mar 23:59:59 CEST → March
    pay(clock, edge, utc(2025, 3, 31, 22, 0))  # 1 Apr 00:00 CEST → April
    pay(clock, edge, utc(2025, 9, 30, 21, 59))  # 30 Sep 23:59 CEST → September
    pay(clock, edge, utc(2025, 9, 30, 22, 0))  # 1 Oct 00:00 CEST → October
    pay(clock, edge, utc(2025, 10, 26, 0, 30))  # 26 Oct 02:30 CEST, before falling back → October
    pay(clock, edge, utc(2025, 10, 26, 1, 30))  # 26 Oct 02:30 CET, after it → October
    pay(clock, edge, utc(2025, 10, 31, 22, 59))  # 31 Oct 23:59 CET → October
    pay(clock, edge, utc(2025, 10, 31, 23, 0))  # 1 Nov 00:00 → November
    pay(clock, edge, utc(2024, 12, 31, 23, 0))  # 1 Jan 2025 00:00 → January 2025
    # Not payments: failed, cancelled, expired in December.
    for final in (S.FAILED, S.CANCELLED, S.EXPIRED):
        pay(clock, edge, utc(2025, 12, 10, 12), final=final)
    # Refunds: paid in November, 100 Kč back in December, the rest on 1 Jan 2026 00:10 Prague.
    r = pay(clock, others[0], utc(2025, 11, 15, 10), amount=50_000, gateway="stripe")
    refund(clock, r, utc(2025, 12, 5, 9), 10_000)
    refund(clock, r, utc(2025, 12, 31, 23, 10), 50_000)
    # A transfer and a card payment in December.
    pay(clock, others[1], utc(2025, 12, 20, 8), amount=77_750, gateway="bank_transfer")
    pay(clock, others[1], utc(2025, 12, 20, 9), amount=1_001, gateway="stripe")

    rng = random.Random(20251231)
    start, span = utc(2024, 11, 20), int((utc(2026, 2, 10) - utc(2024, 11, 20)).total_seconds())
    for _ in range(220):
        if rng.random() < 0.4:
            at = rng.choice(BOUNDARIES) + timedelta(minutes=rng.randint(-150, 150), seconds=rng.randint(0, 59))
        else:
            at = start + timedelta(seconds=rng.randrange(span))
        roll = rng.random()
        final = S.PAID if roll < 0.8 else S.FAILED if roll < 0.9 else S.CANCELLED if roll < 0.95 else S.EXPIRED
        p = pay(clock, rng.choice(others), at, amount=rng.randint(1, 500_000),
                gateway=rng.choice(["demo", "stripe", "stripe", "bank_transfer"]), final=final)
        if final == S.PAID and rng.random() < 0.15:
            first = rng.randint(1, p.amount)
            refund(clock, p, at + timedelta(days=rng.randint(0, 40), minutes=rng.randint(1, 600)), first)
            if rng.random() < 0.5:
                refund(clock, p, at + timedelta(days=rng.randint(41, 80)), rng.randint(first, p.amount))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "edge": edge, "other": others[1]}


MONTHS = [(2025, 1), (2025, 3), (2025, 4), (2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2)]


@pytest.mark.parametrize("ym", MONTHS, ids=[f"{y}-{m:02d}" for y, m in MONTHS])
def test_report_equals_direct_sql(dataset, ym: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    r = build_monthly_report(*ym)
    months = {"current": date(*ym, 1), "previous": date(*ym, 1) - timedelta(days=1), "year_ago": date(ym[0] - 1, ym[1], 1)}
    months = {k: date(v.year, v.month, 1) for k, v in months.items()}
    for which, month in months.items():
        assert (r.total.figures(which).count, r.total.figures(which).volume) == sql_payments(month)["total"], which
        assert (r.refunds.figures(which).count, r.refunds.figures(which).volume) == sql_refunds(month), which
        for lines, by in ((r.by_municipality, "municipality_id"), (r.by_service, "service_id"),
                          (r.by_channel, "gateway_name")):
            got = {ln.key: (ln.figures(which).count, ln.figures(which).volume) for ln in lines if ln.figures(which).count}
            assert got == sql_payments(month, by), (which, by)
        transfers = sql_payments(month, "gateway_name").get("bank_transfer", (0, 0))
        kinds = {ln.key: ln for ln in r.by_channel_kind}
        assert (kinds["transfer"].figures(which).count, kinds["transfer"].figures(which).volume) == transfers
        day = month_end(month)
        states = sql_states(day)
        assert r.snapshots[which].joined == sum(1 for s in states.values() if s == "active")
        assert r.snapshots[which].active_services == sql_active_services(day)
        assert r.newly_joined_counts[which] == len(sql_newly_joined(month))
    current = sql_states(r.as_of)
    assert {m.id for m in r.joined} == {mid for mid, s in current.items() if s == "active"}
    assert {m.id for m in r.in_negotiation} == {
        mid for mid, s in current.items() if s in ("interested", "in_preparation", "contract_signed")
    }
    assert {m.id for m in r.newly_joined} == sql_newly_joined(months["current"])
    refunds_by_m = sum(ln.current.volume for ln in r.refunds_by_municipality)
    assert refunds_by_m == r.refunds.current.volume
    assert verify_month(*ym) == []


def test_boundaries_and_pipeline_by_hand(dataset) -> None:  # type: ignore[no-untyped-def]
    """The same data, checked against figures worked out by hand from the Prague calendar."""
    edge = dataset["edge"].id

    def edge_count(y: int, m: int) -> int:
        line = next((ln for ln in build_monthly_report(y, m).by_service if ln.key == edge), None)
        return line.current.count if line else 0

    hand = {(2025, 1): 1, (2025, 2): 0, (2025, 3): 2, (2025, 4): 1, (2025, 9): 1, (2025, 10): 4, (2025, 11): 1,
            (2025, 12): 1, (2026, 1): 1}
    for ym, n in hand.items():
        assert edge_count(*ym) == n, ym
    dec = build_monthly_report(2025, 12)
    assert {m.id for m in dec.joined} == {dataset["a"].id, dataset["b"].id}
    assert {m.id for m in dec.newly_joined} == {dataset["b"].id}
    assert {(m.id, m.state) for m in dec.in_negotiation} == {(dataset["c"].id, "interested"),
                                                              (dataset["d"].id, "contract_signed")}
    jan = build_monthly_report(2026, 1)
    assert {m.id for m in jan.newly_joined} == {dataset["d"].id}
    assert dec.due_date == date(2026, 1, 22)


def test_summary_rebuilt_from_payments_equals_the_one_kept_on_transitions(dataset) -> None:  # type: ignore[no-untyped-def]
    def rows() -> set[tuple]:  # type: ignore[type-arg]
        t = PaymentMonthSummary
        return set(db_session.execute(
            select(t.month, t.municipality_id, t.service_id, t.gateway_name, t.paid_count, t.paid_volume,
                   t.refund_count, t.refund_volume).where((t.paid_count > 0) | (t.refund_count > 0))
        ).all())

    kept = rows()
    assert len(kept) > 50
    rebuild_payment_summary()
    assert rows() == kept


def test_a_payment_inserted_around_the_state_machine_is_caught_by_verify(dataset) -> None:  # type: ignore[no-untyped-def]
    make_payment(dataset["other"], state=S.PAID, paid_at=datetime(2025, 12, 3, 12))
    assert verify_month(2025, 12) != []
    rebuild_payment_summary()
    assert verify_month(2025, 12) == []
