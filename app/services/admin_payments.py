"""Payments as staff see them: filters, sorting, keyset pagination, exports, dashboard.

Every function takes ``municipality_id`` (None = all municipalities, for the operator):
the caller decides the scope, these functions never widen it. Dates are Europe/Prague
calendar days; amounts are haléře."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.db import SessionFactory, db_session, utcnow
from app.models import ExportJob, ExportStatus, Municipality, Payment, PaymentState, Service
from app.models.payment import SETTLED_STATES
from app.services.money import AmountError, parse_czk

PRAGUE = ZoneInfo("Europe/Prague")
SORTS = ("created_desc", "created_asc", "amount_desc", "amount_asc")


def prague_day_start(d: date) -> datetime:
    """Midnight in Prague, as an aware UTC datetime (DST handled by zoneinfo)."""
    return datetime.combine(d, time.min, tzinfo=PRAGUE).astimezone(UTC)


def to_prague(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(PRAGUE)


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
                    setattr(f, key, date.fromisoformat(text))
                except ValueError:
                    f.errors[key] = _("Datum zadejte ve tvaru RRRR-MM-DD.")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors["date_to"] = _("Konec období musí být po jeho začátku.")
            f.date_to = None
        sid = (args.get("service") or args.get("service_id") or "").strip()
        if sid:
            if sid.isdigit() and len(sid) < 10:
                f.service_id = int(sid)
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


def apply_filters(stmt: Select[Any], f: PaymentFilter, municipality_id: int | None) -> Select[Any]:
    conds = []
    if municipality_id is not None:
        conds.append(Payment.municipality_id == municipality_id)
    if f.state:
        conds.append(Payment.state == f.state)
    if f.date_from:
        conds.append(Payment.created_at >= prague_day_start(f.date_from))
    if f.date_to:
        conds.append(Payment.created_at < prague_day_start(f.date_to + timedelta(days=1)))
    if f.service_id:
        conds.append(Payment.service_id == f.service_id)
    if f.amount_min is not None:
        conds.append(Payment.amount >= f.amount_min)
    if f.amount_max is not None:
        conds.append(Payment.amount <= f.amount_max)
    if f.ref:
        conds.append(or_(Payment.variable_symbol == f.ref, Payment.gateway_reference == f.ref,
                         Payment.external_id == f.ref))
    if f.payer:
        like = f"%{_escape_like(f.payer.lower())}%"
        conds.append(or_(func.lower(Payment.payer_name).like(like, escape="\\"),
                         func.lower(Payment.payer_email).like(like, escape="\\")))
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


@dataclass
class Page:
    items: list[Payment]
    next_cursor: str | None


def list_payments(f: PaymentFilter, municipality_id: int | None, *, cursor: str | None = None,
                  page_size: int = 50, session: Session | None = None) -> Page:
    """One page of the filtered list, ordered by the sort key then id (stable with equal
    timestamps), starting after ``cursor``."""
    session = session or db_session()
    stmt = apply_order(apply_filters(select(Payment), f, municipality_id), f.sort).options(
        joinedload(Payment.service), joinedload(Payment.municipality))
    if cursor:
        key = decode_cursor(cursor, f.sort)
        if key is not None:
            stmt = _after(stmt, f.sort, key)
    rows = list(session.scalars(stmt.limit(page_size + 1)))
    next_cursor = encode_cursor(rows[page_size - 1], f.sort) if len(rows) > page_size else None
    return Page(rows[:page_size], next_cursor)


def count_payments(f: PaymentFilter, municipality_id: int | None, session: Session | None = None) -> int:
    session = session or db_session()
    return session.scalar(apply_filters(select(func.count(Payment.id)), f, municipality_id)) or 0


# -- exports ---------------------------------------------------------------------------
EXPORT_HEADER = [
    "Identifikátor", "Vytvořeno", "Zaplaceno", "Obec", "Služba", "Stav", "Částka (Kč)", "Vráceno (Kč)",
    "Variabilní symbol", "Brána", "Reference brány", "Plátce", "E-mail",
]


def iter_export_rows(f: PaymentFilter, municipality_id: int | None, session: Session) -> Iterator[tuple[Any, ...]]:
    """Rows of the filtered list, fetched in batches from a server-side cursor (flat memory)."""
    stmt = apply_order(
        apply_filters(
            select(
                Payment.external_id, Payment.created_at, Payment.paid_at, Municipality.name, Service.name,
                Payment.state, Payment.amount, Payment.amount_refunded, Payment.variable_symbol,
                Payment.gateway_name, Payment.gateway_reference, Payment.payer_name, Payment.payer_email,
            )
            .join(Service, Service.id == Payment.service_id)
            .join(Municipality, Municipality.id == Payment.municipality_id),
            f, municipality_id,
        ),
        f.sort,
    ).execution_options(yield_per=2000, stream_results=True)
    for row in session.execute(stmt):
        yield tuple(row)


def _fmt_dt(dt: datetime | None) -> str:
    local = to_prague(dt)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local else ""


def _csv_amount(amount: int) -> str:
    crowns, hal = divmod(amount, 100)
    return f"{crowns},{hal:02d}"


def csv_lines(rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    """CSV for Czech Excel: UTF-8 with BOM, semicolons, decimal comma."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    yield "\ufeff" + buf.getvalue()
    for n, (ext, created, paid, mun, svc, state, amount, refunded, vs, gw, ref, name, email) in enumerate(rows, 1):
        buf.seek(0)
        buf.truncate()
        writer.writerow([ext, _fmt_dt(created), _fmt_dt(paid), mun, svc, state, _csv_amount(amount),
                         _csv_amount(refunded), vs or "", gw, ref or "", name, email])
        yield buf.getvalue()
        del n


def write_xlsx(rows: Iterator[tuple[Any, ...]], path: str) -> int:
    """Write an XLSX with openpyxl's write-only mode (rows go straight to disk)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Platby")
    ws.append(EXPORT_HEADER)
    count = 0
    for ext, created, paid, mun, svc, state, amount, refunded, vs, gw, ref, name, email in rows:
        cells = []
        for value in (Decimal(amount) / 100, Decimal(refunded) / 100):
            c = WriteOnlyCell(ws, value=value)
            c.number_format = "#,##0.00"
            cells.append(c)
        ws.append([ext, _fmt_dt(created), _fmt_dt(paid), mun, svc, state, *cells, vs or "", gw, ref or "", name, email])
        count += 1
    wb.save(path)
    return count


def xlsx_tempfile(f: PaymentFilter, municipality_id: int | None) -> str:
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="platby-")
    os.close(fd)
    with SessionFactory() as s:
        write_xlsx(iter_export_rows(f, municipality_id, s), path)
    return path


def stream_file_and_delete(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        os.unlink(path)


def stream_csv(f: PaymentFilter, municipality_id: int | None) -> Iterator[bytes]:
    """The CSV as it is produced; its own session so the response can outlive the request."""
    with SessionFactory() as s:
        for line in csv_lines(iter_export_rows(f, municipality_id, s)):
            yield line.encode("utf-8")


def start_export_job(staff_id: int, municipality_id: int | None, fmt: str, f: PaymentFilter) -> ExportJob:
    job = ExportJob(staff_id=staff_id, municipality_id=municipality_id, format=fmt, filters=f.to_args())
    db_session.add(job)
    db_session.commit()
    return job


def run_export_job(job_id: int) -> ExportJob | None:
    """Build an export file (called by app.jobs.run_export)."""
    job = db_session.get(ExportJob, job_id)
    if job is None or job.status not in (ExportStatus.PENDING, ExportStatus.FAILED):
        return job
    job.status = ExportStatus.RUNNING
    db_session.commit()
    directory = current_app.config["EXPORT_DIR"]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"platby-{job.id}-{os.urandom(8).hex()}.{job.format}")
    f = PaymentFilter.from_args(job.filters or {})
    try:
        with SessionFactory() as s:
            rows = iter_export_rows(f, job.municipality_id, s)
            if job.format == "xlsx":
                count = write_xlsx(rows, path)
            else:
                count = 0
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    for line in csv_lines(rows):
                        fh.write(line)
                        count += 1
                count -= 1  # the header
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the job page
        job.status = ExportStatus.FAILED
        job.error = str(exc)[:300]
        db_session.commit()
        if os.path.exists(path):
            os.unlink(path)
        return job
    job.status = ExportStatus.DONE
    job.file_path = path
    job.row_count = count
    job.finished_at = utcnow()
    db_session.commit()
    return job


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


def month_stats(municipality_id: int | None, now: datetime | None = None) -> MonthStats:
    """Payments paid this Prague month (paid, partially refunded or refunded)."""
    local = to_prague(now or utcnow())
    assert local is not None
    first = local.date().replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    stmt = select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0),
                  func.coalesce(func.sum(Payment.amount_refunded), 0)).where(
        Payment.state.in_([str(s) for s in SETTLED_STATES]),
        Payment.paid_at >= prague_day_start(first),
        Payment.paid_at < prague_day_start(nxt),
    )
    if municipality_id is not None:
        stmt = stmt.where(Payment.municipality_id == municipality_id)
    count, total, refunded = db_session.execute(stmt).one()
    return MonthStats(first, int(count), int(total), int(refunded))


def latest_payments(municipality_id: int | None, limit: int = 10) -> list[Payment]:
    return list(list_payments(PaymentFilter(), municipality_id, page_size=limit).items)
