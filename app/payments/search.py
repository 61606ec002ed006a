"""Payments as staff see them: filters, sorting, keyset pagination, the dashboard's
figures.

Every function takes ``municipality_id`` (None = all municipalities, for the operator)
and ``region_id`` (None = every region; limits the all-municipality view to an operator's
region): the caller decides the scope, these functions never widen it. Dates are Europe/Prague
calendar days; amounts are haléře."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select, text, union_all
from sqlalchemy.orm import Session, aliased, selectinload

from app.db import db_session, utcnow
from app.models import Payment, PaymentItem, PaymentState
from app.models.payment import SETTLED_STATES
from app.money import AmountError, parse_czk
from app.regions.scope import in_region
from app.timeutil import prague_midnight_utc, to_prague
from app.validation import CONTROL_MESSAGE, DayError, day_error_message, has_control_characters, parse_day, parse_id

SORTS = ("created_desc", "created_asc", "amount_desc", "amount_asc")


@dataclass
class PaymentFilter:
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    service_id: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    ref: str = ""
    payer: str = ""
    sort: str = "created_desc"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PaymentFilter:
        """Parse query arguments; a bad value gives a Czech message and is ignored."""
        f = cls()
        state = (args.get("state") or "").strip()
        if state:
            if state in PaymentState.__members__.values():
                f.state = state
            else:
                f.errors["state"] = _("Neznámý stav platby.")
        for key in ("date_from", "date_to"):
            text = (args.get(key) or "").strip()
            if text:
                try:
                    setattr(f, key, parse_day(text))
                except DayError as exc:  # also 0001-01-01 or 9999-12-31 (overflow in UTC)
                    f.errors[key] = day_error_message(exc)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors["date_to"] = _("Konec období musí být po jeho začátku.")
            f.date_to = None
        sid = (args.get("service") or args.get("service_id") or "").strip()
        if sid:
            if (service_id := parse_id(sid)) is not None:
                f.service_id = service_id
            else:
                f.errors["service"] = _("Neznámá služba.")
        for key in ("amount_min", "amount_max"):
            text = (args.get(key) or "").strip()
            if text:
                try:
                    setattr(f, key, parse_czk(text))
                except AmountError:
                    f.errors[key] = _("Částka musí být číslo v korunách, např. 500 nebo 499,50.")
        if f.amount_min is not None and f.amount_max is not None and f.amount_min > f.amount_max:
            f.errors["amount_max"] = _("Horní mez částky musí být alespoň tak velká jako dolní.")
            f.amount_max = None
        f.ref = (args.get("ref") or "").strip()[:100]
        f.payer = (args.get("payer") or "").strip()[:100]
        for key in ("ref", "payer"):
            if has_control_characters(getattr(f, key)):
                f.errors[key] = str(CONTROL_MESSAGE)
                setattr(f, key, "")
        sort = (args.get("sort") or "created_desc").strip()
        f.sort = sort if sort in SORTS else "created_desc"
        return f

    def to_args(self) -> dict[str, str]:
        """Query arguments that reproduce this filter (links, exports, jobs)."""
        out = {
            "state": self.state or "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "service": str(self.service_id or ""),
            "amount_min": _crowns(self.amount_min),
            "amount_max": _crowns(self.amount_max),
            "ref": self.ref,
            "payer": self.payer,
            "sort": self.sort if self.sort != "created_desc" else "",
        }
        return {k: v for k, v in out.items() if v}


def _crowns(amount: int | None) -> str:
    if amount is None:
        return ""
    crowns, hal = divmod(amount, 100)
    return f"{crowns},{hal:02d}" if hal else str(crowns)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_filters(stmt: Select[Any], f: PaymentFilter, municipality_id: int | None,
                  region_id: int | None = None) -> Select[Any]:
    conds = []
    if municipality_id is not None:
        conds.append(Payment.municipality_id == municipality_id)
    elif region_id is not None:
        conds.append(in_region(Payment.municipality_id, region_id))
    if f.state:
        conds.append(Payment.state == f.state)
    if f.date_from:
        conds.append(Payment.created_at >= prague_midnight_utc(f.date_from))
    if f.date_to:
        conds.append(Payment.created_at < prague_midnight_utc(f.date_to + timedelta(days=1)))
    if f.service_id:
        # The payment's own service, or one of its fees (a household's payment is filed
        # under its first fee's service; the dog's fee in it is found under the dog too).
        # One set of ids from two indexed lookups (an OR of the two would scan the
        # municipality's payments when the service has few).
        own = aliased(Payment)
        ids = union_all(
            select(own.id).where(own.service_id == f.service_id),
            select(PaymentItem.payment_id).where(PaymentItem.service_id == f.service_id),
        )
        conds.append(Payment.id.in_(ids))
    if f.amount_min is not None:
        conds.append(Payment.amount >= f.amount_min)
    if f.amount_max is not None:
        conds.append(Payment.amount <= f.amount_max)
    if f.ref:
        conds.append(
            or_(Payment.variable_symbol == f.ref, Payment.gateway_reference == f.ref, Payment.external_id == f.ref)
        )
    if f.payer:
        # ILIKE on PostgreSQL (served by the trigram indexes); lower() LIKE elsewhere.
        like = f"%{_escape_like(f.payer)}%"
        conds.append(or_(Payment.payer_name.ilike(like, escape="\\"), Payment.payer_email.ilike(like, escape="\\")))
    return stmt.where(and_(*conds)) if conds else stmt


def _sort_columns(sort: str) -> tuple[Any, bool]:
    column = Payment.amount if sort.startswith("amount") else Payment.created_at
    return column, sort.endswith("_desc")


def apply_order(stmt: Select[Any], sort: str) -> Select[Any]:
    column, desc = _sort_columns(sort)
    if desc:
        return stmt.order_by(column.desc(), Payment.id.desc())
    return stmt.order_by(column.asc(), Payment.id.asc())


# -- keyset pagination -----------------------------------------------------------------
def encode_cursor(payment: Payment, sort: str) -> str:
    column, _desc = _sort_columns(sort)
    value = payment.amount if column is Payment.amount else payment.created_at.isoformat()
    raw = json.dumps([sort, value, payment.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int] | None:
    """The (sort value, id) after which the page starts; None for a bad or foreign cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        c_sort, value, pid = json.loads(raw)
        if c_sort != sort or not isinstance(pid, int):
            return None
        if sort.startswith("amount"):
            if not isinstance(value, int):
                return None
            return value, pid
        return datetime.fromisoformat(value), pid
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _after(stmt: Select[Any], sort: str, key: tuple[Any, int]) -> Select[Any]:
    column, desc = _sort_columns(sort)
    value, pid = key
    if desc:
        return stmt.where(or_(column < value, and_(column == value, Payment.id < pid)))
    return stmt.where(or_(column > value, and_(column == value, Payment.id > pid)))


def custom_plans(session: Session) -> None:
    """Plan this transaction's queries for their actual values. psycopg prepares a
    statement after five runs and PostgreSQL may then switch to a generic plan, which
    cannot see that one municipality has 100 times the payments of another or that a
    search term is common — and picks a plan 20× slower."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass
class Page:
    items: list[Payment]
    next_cursor: str | None


def list_payments(
    f: PaymentFilter,
    municipality_id: int | None,
    *,
    cursor: str | None = None,
    page_size: int = 50,
    session: Session | None = None,
    related: bool = True,
    region_id: int | None = None,
) -> Page:
    """One page of the filtered list, ordered by the sort key then id (stable with equal
    timestamps), starting after ``cursor``. ``related``: load each payment's service and
    municipality with it (the staff list shows them; the API does not)."""
    session = session or db_session()
    custom_plans(session)
    stmt = apply_order(apply_filters(select(Payment), f, municipality_id, region_id), f.sort)
    if related:
        stmt = stmt.options(
            selectinload(Payment.service),
            selectinload(Payment.municipality),
            # A payment of several fees names every service (Odpad + Pes).
            selectinload(Payment.items).selectinload(PaymentItem.service),
        )
    if cursor:
        key = decode_cursor(cursor, f.sort)
        if key is not None:
            stmt = _after(stmt, f.sort, key)
    rows = list(session.scalars(stmt.limit(page_size + 1)))
    next_cursor = encode_cursor(rows[page_size - 1], f.sort) if len(rows) > page_size else None
    return Page(rows[:page_size], next_cursor)


def count_payments(f: PaymentFilter, municipality_id: int | None, session: Session | None = None,
                   region_id: int | None = None) -> int:
    session = session or db_session()
    custom_plans(session)
    return session.scalar(apply_filters(select(func.count(Payment.id)), f, municipality_id, region_id)) or 0


def filter_dict(f: PaymentFilter) -> dict[str, Any]:
    d = asdict(f)
    d.pop("errors")
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.items() if v not in (None, "")}


# -- dashboard -------------------------------------------------------------------------
@dataclass
class MonthStats:
    month_start: date
    paid_count: int
    paid_sum: int
    refunded_sum: int


def month_stats(municipality_id: int | None, now: datetime | None = None, region_id: int | None = None) -> MonthStats:
    """Payments paid this Prague month (paid, partially refunded or refunded)."""
    local = to_prague(now or utcnow())
    assert local is not None
    first = local.date().replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    stmt = select(
        func.count(Payment.id),
        func.coalesce(func.sum(Payment.amount), 0),
        func.coalesce(func.sum(Payment.amount_refunded), 0),
    ).where(
        Payment.state.in_([str(s) for s in SETTLED_STATES]),
        Payment.paid_at >= prague_midnight_utc(first),
        Payment.paid_at < prague_midnight_utc(nxt),
    )
    if municipality_id is not None:
        stmt = stmt.where(Payment.municipality_id == municipality_id)
    elif region_id is not None:
        stmt = stmt.where(in_region(Payment.municipality_id, region_id))
    count, total, refunded = db_session.execute(stmt).one()
    return MonthStats(first, int(count), int(total), int(refunded))


def latest_payments(municipality_id: int | None, limit: int = 10, region_id: int | None = None) -> list[Payment]:
    return list(list_payments(PaymentFilter(), municipality_id, page_size=limit, region_id=region_id).items)
