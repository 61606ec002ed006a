"""The payment summary: settled payments and refunds per Prague month, municipality,
service, gateway and merchant account, kept exact in the same transaction as the payment transitions.

- ``paid_in_range`` / ``refunds_in_range`` count straight from payments and their Refund
  records (the truth; used to rebuild and to verify the summary);
- listeners on the paid and refund transitions add to the summary row of the month;
- ``rebuild_payment_summary`` recounts everything (after a bulk load such as the demo
  seed or the benchmark); ``verify_month`` compares the summary with a recount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.bulk import ids_in
from app.db import db_session
from app.models import Payment, PaymentMonthSummary, RefundState
from app.models import Refund as RefundRow
from app.models.payment import SETTLED_STATES
from app.models.refund import refund_being_applied
from app.models.reporting import NO_GATEWAY_ACCOUNT
from app.regions.scope import in_region
from app.timeutil import month_bounds_utc, shift_month, to_prague


@dataclass
class Figures:
    count: int = 0
    volume: int = 0  # haléře

    def add(self, count: int, volume: int) -> None:
        self.count += count
        self.volume += volume


# -- counting from the payments themselves -----------------------------------------
Group = tuple[int, int, str, int]  # (municipality_id, service_id, gateway_name, gateway_account_id)
# The payment's merchant account as the summary keys it (0: none).
ACCOUNT_KEY = func.coalesce(Payment.gateway_account_id, NO_GATEWAY_ACCOUNT)


def account_key(gateway_account_id: int | None) -> int:
    return NO_GATEWAY_ACCOUNT if gateway_account_id is None else gateway_account_id


def paid_in_range(session: Session, start: datetime, end: datetime) -> dict[Group, Figures]:
    """Settled payments with paid_at in [start, end) (naive UTC), grouped."""
    stmt = (
        select(
            Payment.municipality_id,
            Payment.service_id,
            Payment.gateway_name,
            ACCOUNT_KEY,
            func.count(),
            func.sum(Payment.amount),
        )
        .where(Payment.paid_at >= start, Payment.paid_at < end, Payment.state.in_(sorted(SETTLED_STATES)))
        .group_by(Payment.municipality_id, Payment.service_id, Payment.gateway_name, ACCOUNT_KEY)
    )
    return {(m, s, g, a): Figures(int(c), int(v or 0)) for m, s, g, a, c, v in session.execute(stmt)}


@dataclass(frozen=True)
class Refund:
    payment_id: int
    municipality_id: int
    service_id: int
    gateway_name: str
    gateway_account_id: int
    amount: int
    at: datetime


def refunds_in_range(session: Session, start: datetime, end: datetime) -> list[Refund]:
    """Every refund that succeeded in [start, end), from the Refund records."""
    rows = session.execute(
        select(
            RefundRow.payment_id,
            Payment.municipality_id,
            Payment.service_id,
            Payment.gateway_name,
            ACCOUNT_KEY,
            RefundRow.amount,
            RefundRow.completed_at,
        )
        .join(Payment, Payment.id == RefundRow.payment_id)
        .where(RefundRow.state == RefundState.SUCCEEDED, RefundRow.completed_at >= start, RefundRow.completed_at < end)
        .order_by(RefundRow.completed_at, RefundRow.id)
    )
    return [Refund(pid, mid, sid, gw, acc, int(amount), at) for pid, mid, sid, gw, acc, amount, at in rows]


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- keeping the summary on transitions --------------------------------------------------
def month_of(moment: datetime) -> date:
    """The first day of the Prague month a database time (UTC) falls in."""
    local = to_prague(moment)
    return date(local.year, local.month, 1)


def _bump(session: Session, month: date, payment: Payment, **amounts: int) -> None:
    group = (payment.municipality_id, payment.service_id, payment.gateway_name, account_key(payment.gateway_account_id))
    _bump_group(session, month, group, **amounts)


def _bump_group(session: Session, month: date, group: Group, **amounts: int) -> None:
    values = {"paid_count": 0, "paid_volume": 0, "refund_count": 0, "refund_volume": 0, **amounts}
    municipality_id, service_id, gateway_name, gateway_account_id = group
    key = {
        "month": month,
        "municipality_id": municipality_id,
        "service_id": service_id,
        "gateway_name": gateway_name,
        "gateway_account_id": gateway_account_id,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite
        raise RuntimeError(f"payment summary: unsupported database {dialect}")
    t = PaymentMonthSummary.__table__
    stmt = insert(t).values(**key, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={name: t.c[name] + stmt.excluded[name] for name in values if values[name]}
    )
    session.execute(stmt)


def count_paid(payment: Payment, session: Session) -> None:
    assert payment.paid_at is not None
    _bump(session, month_of(payment.paid_at), payment, paid_count=1, paid_volume=payment.amount)


def count_paid_many(payment_ids: list[int], session: Session) -> None:
    """``count_paid`` for a batch paid together: one summary bump per month and group."""
    groups: dict[tuple[date, Group], list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(
            Payment.municipality_id,
            Payment.service_id,
            Payment.gateway_name,
            ACCOUNT_KEY,
            Payment.paid_at,
            Payment.amount,
        ).where(ids_in(Payment.id, payment_ids, session))
    )
    for municipality_id, service_id, gateway_name, account, paid_at, amount in rows:
        figures = groups[(month_of(paid_at), (municipality_id, service_id, gateway_name, account))]
        figures[0] += 1
        figures[1] += amount
    for (month, group), (count, volume) in sorted(groups.items()):
        _bump_group(session, month, group, paid_count=count, paid_volume=volume)


def count_refund(payment: Payment, session: Session) -> None:
    refund = refund_being_applied(session, payment.id)
    if refund is not None and refund.completed_at is not None:
        _bump(session, month_of(refund.completed_at), payment, refund_count=1, refund_volume=refund.amount)


# -- rebuilding and verifying --------------------------------------------------------------
Key = Group


def recount_month(session: Session, year: int, month: int) -> dict[Key, tuple[int, int, int, int]]:
    start, end = month_bounds_utc(year, month)
    rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, fig in paid_in_range(session, start, end).items():
        rows[key][0] += fig.count
        rows[key][1] += fig.volume
    for r in refunds_in_range(session, start, end):
        key = (r.municipality_id, r.service_id, r.gateway_name, r.gateway_account_id)
        rows[key][2] += 1
        rows[key][3] += r.amount
    return {k: (v[0], v[1], v[2], v[3]) for k, v in rows.items()}


def summary_month(session: Session, year: int, month: int, region_id: int | None = None,
                  ) -> dict[Key, tuple[int, int, int, int]]:
    """The month's summary rows (of one region's municipalities, when ``region_id``)."""
    t = PaymentMonthSummary
    return {
        (m, s, g, a): (pc, pv, rc, rv)
        for m, s, g, a, pc, pv, rc, rv in session.execute(
            select(
                t.municipality_id,
                t.service_id,
                t.gateway_name,
                t.gateway_account_id,
                t.paid_count,
                t.paid_volume,
                t.refund_count,
                t.refund_volume,
            ).where(t.month == date(year, month, 1), in_region(t.municipality_id, region_id))
        )
        if pc or rc
    }


def verify_month(year: int, month: int, *, session: Session | None = None) -> list[str]:
    """Differences between the summary and a recount of the month (empty when exact)."""
    session = session or db_session()
    truth, kept = recount_month(session, year, month), summary_month(session, year, month)
    return [
        f"{year}-{month:02d} {key}: summary {kept.get(key)} ≠ payments {truth.get(key)}"
        for key in sorted(truth.keys() | kept.keys(), key=str)
        if truth.get(key) != kept.get(key)
    ]


def _months_with_data(session: Session) -> list[tuple[int, int]]:
    first = session.scalar(select(func.min(Payment.paid_at)).where(Payment.paid_at.is_not(None)))
    last = max(
        (
            d
            for d in (
                session.scalar(select(func.max(Payment.paid_at))),
                session.scalar(
                    select(func.max(RefundRow.completed_at)).where(RefundRow.state == RefundState.SUCCEEDED)
                ),
            )
            if d is not None
        ),
        default=None,
    )
    if first is None or last is None:
        return []
    y, m = month_of(first).year, month_of(first).month
    end = month_of(last)
    months = []
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = shift_month(y, m, 1)
    return months


def rebuild_payment_summary(*, session: Session | None = None) -> int:
    """Recount the whole summary from the payments (after bulk loads). Commits; returns
    the number of summary rows."""
    session = session or db_session()
    session.execute(delete(PaymentMonthSummary))
    n = 0
    for year, month in _months_with_data(session):
        rows = [
            {
                "month": date(year, month, 1),
                "municipality_id": k[0],
                "service_id": k[1],
                "gateway_name": k[2],
                "gateway_account_id": k[3],
                "paid_count": v[0],
                "paid_volume": v[1],
                "refund_count": v[2],
                "refund_volume": v[3],
            }
            for k, v in recount_month(session, year, month).items()
        ]
        if rows:
            session.execute(PaymentMonthSummary.__table__.insert(), rows)
            n += len(rows)
    session.commit()
    return n
