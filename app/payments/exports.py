"""Exports of the staff's payment list: CSV streamed, XLSX as a file, big ones as jobs.
Scoped like the list (``municipality_id``, None = all)."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import SessionFactory, db_session, utcnow
from app.models import (
    ExportJob,
    ExportStatus,
    GatewayAccount,
    Municipality,
    Obligation,
    Payment,
    PaymentItem,
    Service,
)
from app.models.payment import refunded_per_item
from app.payments.labels import gateway_label, state_label
from app.payments.search import PaymentFilter, apply_filters, apply_order
from app.timeutil import to_prague

# -- exports ---------------------------------------------------------------------------
# One row per fee: a payment of several fees (a household's waste fees and the dog, one
# PaymentItem each) gives a row per item with that item's service, customer ID and amount,
# the payment's columns repeated. The municipality books each fee to its own budget item,
# so the clerk sums "Částka" by "Služba" (a pivot table, SUMIF) and the column still adds
# up to what was paid; "Celá platba" and the shared identifier match the gateway's payout.
# A payment of one fee stays one row. New columns go at the end (clerks' sheets refer to
# the columns by position).
EXPORT_HEADER = [
    "Identifikátor",
    "Vytvořeno",
    "Zaplaceno",
    "Obec",
    "Služba",
    "Stav",
    "Částka (Kč)",
    "Vráceno (Kč)",
    "Variabilní symbol",
    "Platební brána",
    "Číslo platby u brány",
    "Plátce",
    "E-mail",
    "Zákaznické číslo",
    "Účet brány",
    "Účet příjemce",
    "Položka platby",
    "Celá platba (Kč)",
]
# Column widths (characters) fitted to what each column holds: spreadsheets open the file
# readable without widening columns by hand.
XLSX_WIDTHS = [28, 17, 17, 22, 34, 17, 14, 14, 17, 22, 24, 26, 30, 17, 22, 30, 14, 16]
XLSX_DATE_FORMAT = "d. m. yyyy h:mm"
# The amount as a number shown with two decimals and "Kč" (Czech Excel: "1 234,50 Kč").
XLSX_CZK_FORMAT = '#,##0.00\\ "Kč"'
XLSX_TEXT_FORMAT = "@"


def iter_export_rows(
    f: PaymentFilter, municipality_id: int | None, session: Session, region_id: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """Rows of the filtered list, one per fee (see EXPORT_HEADER), fetched in batches from
    a server-side cursor (flat memory)."""
    item = PaymentItem
    stmt = (
        apply_order(
            apply_filters(
                select(
                    Payment.external_id,
                    Payment.created_at,
                    Payment.paid_at,
                    Municipality.name,
                    Service.name,
                    Payment.state,
                    func.coalesce(item.amount, Payment.amount),
                    Payment.amount_refunded,
                    Payment.variable_symbol,
                    Payment.gateway_name,
                    Payment.gateway_reference,
                    Payment.payer_name,
                    Payment.payer_email,
                    Obligation.customer_id,
                    GatewayAccount.label,
                    # The account the fee belongs to: the service's own when it has one (app.qr.account_for).
                    func.coalesce(Service.iban, Municipality.iban),
                    item.id,
                    Payment.amount,
                    Service.id,
                )
                .outerjoin(item, item.payment_id == Payment.id)
                .join(Service, Service.id == func.coalesce(item.service_id, Payment.service_id))
                .outerjoin(Obligation, Obligation.id == func.coalesce(item.obligation_id, Payment.obligation_id))
                .outerjoin(GatewayAccount, GatewayAccount.id == Payment.gateway_account_id)
                .join(Municipality, Municipality.id == Payment.municipality_id),
                f,
                municipality_id,
                region_id,
            ),
            f.sort,
        )
        .order_by(item.position, item.id)
        .execution_options(yield_per=2000, stream_results=True)
    )
    # The order ends with the payment's id, then its items: a payment's rows come together.
    for _ext, group in groupby(session.execute(stmt), key=itemgetter(0)):
        rows = [list(r) for r in group]
        if rows[0][16] is None:  # a payment of one fee
            yield (*rows[0][:16], "", rows[0][17])
            continue
        refunded = refunded_per_item([(r[16], r[6]) for r in rows], rows[0][7])
        for number, (r, back) in enumerate(zip(rows, refunded, strict=True), 1):
            # Filtered by a service: that service's fees only (their shares of the refunds
            # counted over all the payment's fees).
            if f.service_id and r[18] != f.service_id:
                continue
            # "1 z 3", not "1/3": a spreadsheet would read that as a date.
            yield (*r[:7], back, *r[8:16], f"{number} z {len(rows)}", r[17])


# A cell starting with one of these is a formula to Excel and LibreOffice (a payer named
# "=HYPERLINK(…)" would run in the clerk's spreadsheet): such text gets a leading
# apostrophe, the spreadsheet convention for "this is text" (OWASP CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_cell(value: Any) -> Any:
    """Text fit for a spreadsheet cell: control characters (which XLSX cannot hold at
    all) become spaces, and a formula prefix is neutralised. Other values pass."""
    if not isinstance(value, str):
        return value
    cleaned = _CONTROL.sub(" ", value)
    if value.startswith(_FORMULA_PREFIXES) or cleaned.lstrip().startswith(_FORMULA_PREFIXES):
        cleaned = "'" + cleaned
    return cleaned


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
    for (
        ext,
        created,
        paid,
        mun,
        svc,
        state,
        amount,
        refunded,
        vs,
        gw,
        ref,
        name,
        email,
        customer,
        acct,
        acc,
        item,
        whole,
    ) in rows:
        buf.seek(0)
        buf.truncate()
        # States and gateways in Czech words (a file has no request: the catalogue's source).
        row = [
            ext,
            _fmt_dt(created),
            _fmt_dt(paid),
            mun,
            svc,
            state_label(state, translate=False),
            _csv_amount(amount),
            _csv_amount(refunded),
            vs or "",
            gateway_label(gw, translate=False),
            ref or "",
            name,
            email,
            customer or "",
            acct or "",
            acc or "",
            item,
            _csv_amount(whole),
        ]
        writer.writerow([safe_cell(v) for v in row])
        yield buf.getvalue()


def _local(dt: datetime | None) -> datetime | None:
    """Prague wall-clock time without a zone: spreadsheets store dates without one."""
    local = to_prague(dt)
    return local.replace(tzinfo=None) if local else None


def write_xlsx(rows: Iterator[tuple[Any, ...]], path: str) -> int:
    """Write an XLSX with openpyxl's write-only mode (rows go straight to disk): dates as
    dates, amounts as numbers in Kč, identifiers (VS, customer ID, references) as text so
    leading zeros stay, Czech headers and values, fitted widths, a frozen header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Platby")
    for i, width in enumerate(XLSX_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_HEADER))}1"
    bold = Font(bold=True)
    header = []
    for title in EXPORT_HEADER:
        c = WriteOnlyCell(ws, value=title)
        c.font = bold
        header.append(c)
    ws.append(header)

    def cell(value: Any, fmt: str | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        if fmt:
            c.number_format = fmt
        return c

    def text(value: Any) -> WriteOnlyCell:
        return cell(safe_cell(str(value)) if value not in (None, "") else None, XLSX_TEXT_FORMAT)

    count = 0
    for (
        ext,
        created,
        paid,
        mun,
        svc,
        state,
        amount,
        refunded,
        vs,
        gw,
        ref,
        name,
        email,
        customer,
        acct,
        acc,
        item,
        whole,
    ) in rows:
        ws.append(
            [
                text(ext),
                cell(_local(created), XLSX_DATE_FORMAT),
                cell(_local(paid), XLSX_DATE_FORMAT),
                safe_cell(mun),
                safe_cell(svc),
                state_label(state, translate=False),
                cell(Decimal(amount) / 100, XLSX_CZK_FORMAT),
                cell(Decimal(refunded) / 100, XLSX_CZK_FORMAT),
                text(vs),
                gateway_label(gw, translate=False),
                text(ref),
                safe_cell(name),
                safe_cell(email),
                text(customer),
                safe_cell(acct or ""),
                text(acc),
                text(item),
                cell(Decimal(whole) / 100, XLSX_CZK_FORMAT),
            ]
        )
        count += 1
    wb.save(path)
    return count


def xlsx_tempfile(f: PaymentFilter, municipality_id: int | None, region_id: int | None = None) -> str:
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="platby-")
    os.close(fd)
    try:
        with SessionFactory() as s:
            write_xlsx(iter_export_rows(f, municipality_id, s, region_id), path)
    except BaseException:
        # Nothing is left behind in the temporary folder when the export fails.
        os.unlink(path)
        raise
    return path


def stream_file_and_delete(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        os.unlink(path)


def stream_csv(f: PaymentFilter, municipality_id: int | None, region_id: int | None = None) -> Iterator[bytes]:
    """The CSV as it is produced; its own session so the response can outlive the request."""
    with SessionFactory() as s:
        for line in csv_lines(iter_export_rows(f, municipality_id, s, region_id)):
            yield line.encode("utf-8")


def start_export_job(staff_id: int, municipality_id: int | None, fmt: str, f: PaymentFilter,
                     region_id: int | None = None) -> ExportJob:
    job = ExportJob(staff_id=staff_id, municipality_id=municipality_id,
                    region_id=region_id if municipality_id is None else None, format=fmt, filters=f.to_args())
    db_session.add(job)
    db_session.commit()
    return job


def run_export_job(job_id: int) -> ExportJob | None:
    """Build an export file (called by app.jobs.run_export)."""
    job = db_session.get(ExportJob, job_id)
    # RUNNING too: found running only when retried after its worker died mid-export.
    if job is None or job.status not in (ExportStatus.PENDING, ExportStatus.FAILED, ExportStatus.RUNNING):
        return job
    job.status = ExportStatus.RUNNING
    db_session.commit()
    directory = current_app.config["EXPORT_DIR"]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"platby-{job.id}-{os.urandom(8).hex()}.{job.format}")
    f = PaymentFilter.from_args(job.filters or {})
    try:
        with SessionFactory() as s:
            rows = iter_export_rows(f, job.municipality_id, s, job.region_id)
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
