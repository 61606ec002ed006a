"""Obligations (předpisy) as the admin area sees them: the upload of a payer list, the
list of a service's obligations with filters, and the open-obligation figures of the
dashboard. The import itself is app.obligations.importing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select

from app.db import db_session
from app.jobs import enqueue
from app.models import Obligation, ObligationImport, ObligationState, Service
from app.obligations.jobs import create_import, import_obligations_job
from app.obligations.reading import DEFAULT_MAX_IMPORT_BYTES
from app.regions.scope import in_region
from app.staff.audit import audit

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".csv", ".xlsx")
OPEN_STATES = (ObligationState.UNPAID, ObligationState.PARTIALLY_PAID, ObligationState.OVERDUE)
REPORT_ERRORS_SHOWN = 200


class UploadError(ValueError):
    """The upload is refused before importing; the message is Czech."""


def max_upload_bytes() -> int:
    return int(current_app.config.get("OBLIGATION_IMPORT_MAX_BYTES") or DEFAULT_MAX_IMPORT_BYTES)


def read_upload(stream: IO[bytes], filename: str) -> bytes:
    """The uploaded bytes, refusing a wrong file type, an empty or a too big file (read
    at most the limit plus one byte, so a huge upload is never held in memory whole)."""
    name = (filename or "").strip()
    if not name:
        raise UploadError(_("Vyberte soubor CSV nebo XLSX se seznamem předpisů."))
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadError(_("Nahrajte soubor ve formátu CSV nebo XLSX (soubor „%(n)s“ jím není).", n=name[:100]))
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(_("Soubor je příliš velký; největší povolená velikost je %(mb)s MB.",
                            mb=f"{limit / 1024 / 1024:.0f}" if limit >= 1024 * 1024 else f"{limit / 1024 / 1024:.2f}"))
    if not data.strip():
        raise UploadError(_("Soubor je prázdný."))
    return data


def upload_import(service: Service, data: bytes, filename: str, *, allow_partial: bool,
                  actor: str | None) -> ObligationImport:
    """Store the upload, audit it and run the import as a job (inline without Redis).

    This is ``obligations.start_import`` with the audit record written before the job
    runs, so the attempt is logged even when the job fails."""
    record = create_import(service, data, filename[-255:], allow_partial=allow_partial, created_by=actor)
    audit("obligation_import", record, after={"service_id": service.id, "filename": record.filename,
                                              "size": record.size, "allow_partial": allow_partial},
          municipality_id=service.municipality_id)
    try:
        enqueue(import_obligations_job, record.id)
    except Exception:  # noqa: BLE001 - run inline: the record says FAILED, the page shows it
        db_session.rollback()
        log.exception("obligation import %s failed", record.id)
    db_session.expire_all()
    return record


def import_errors(record: ObligationImport, limit: int = REPORT_ERRORS_SHOWN) -> tuple[list[dict[str, Any]], int]:
    """The first ``limit`` row errors of an import and how many there are in all."""
    report = record.report or {}
    errors = list(report.get("errors") or [])
    return errors[:limit], int(report.get("error_count") or len(errors))


# -- the list --------------------------------------------------------------------------
def state_condition(state: str, today: date) -> ColumnElement[bool]:
    """SQL for the derived state (Obligation.state_on) of an obligation."""
    o = Obligation
    paid = o.amount_paid >= o.amount
    overdue = and_(o.amount_paid < o.amount, o.due_date.is_not(None), o.due_date < today)
    not_due = or_(o.due_date.is_(None), o.due_date >= today)
    if state == ObligationState.CANCELLED:
        return o.cancelled_at.is_not(None)
    live = o.cancelled_at.is_(None)
    if state == ObligationState.PAID:
        return and_(live, paid)
    if state == ObligationState.OVERDUE:
        return and_(live, overdue)
    if state == ObligationState.PARTIALLY_PAID:
        return and_(live, o.amount_paid > 0, o.amount_paid < o.amount, not_due)
    if state == ObligationState.UNPAID:
        return and_(live, o.amount_paid == 0, o.amount_paid < o.amount, not_due)
    raise ValueError(state)


@dataclass
class ObligationFilter:
    state: str = ""
    q: str = ""
    errors: dict[str, str] | None = None

    @classmethod
    def from_args(cls, args: Any) -> ObligationFilter:
        errors: dict[str, str] = {}
        state = (args.get("state") or "").strip()
        if state and state not in {"open", *ObligationState}:
            errors["state"] = _("Neznámý stav předpisu.")
            state = ""
        q = " ".join((args.get("q") or "").split())
        if len(q) > 50:
            errors["q"] = _("Zákaznické číslo má nejvýše 50 znaků.")
            q = ""
        return cls(state=state, q=q, errors=errors)

    def to_args(self) -> dict[str, str]:
        return {k: v for k, v in (("state", self.state), ("q", self.q)) if v}


@dataclass
class ObligationPage:
    items: list[Obligation]
    next_after: int | None
    total: int


def list_obligations(service: Service, f: ObligationFilter, *, after: int | None = None, page_size: int = 50,
                     today: date | None = None) -> ObligationPage:
    """The service's obligations, oldest first, one keyset page (by id) at a time."""
    today = today or date.today()
    conds: list[ColumnElement[bool]] = [Obligation.service_id == service.id]
    if f.state == "open":
        conds.append(Obligation.amount_paid < Obligation.amount)
    elif f.state:
        conds.append(state_condition(f.state, today))
    if f.q:
        pattern = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(Obligation.customer_id.like(f"{pattern}%", escape="\\"))
    total = db_session.scalar(select(func.count(Obligation.id)).where(*conds)) or 0
    stmt = select(Obligation).where(*conds)
    if after is not None:
        stmt = stmt.where(Obligation.id > after)
    rows = list(db_session.scalars(stmt.order_by(Obligation.id).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    return ObligationPage(rows, rows[-1].id if more and rows else None, int(total))


def latest_imports(service: Service, limit: int = 5) -> list[ObligationImport]:
    return list(db_session.scalars(select(ObligationImport).where(ObligationImport.service_id == service.id)
                                   .order_by(ObligationImport.id.desc()).limit(limit)))


# -- the dashboard ---------------------------------------------------------------------
@dataclass
class OpenObligations:
    count: int
    overdue_count: int
    overdue_amount: int  # haléře still to pay on overdue obligations


def open_obligations(municipality_id: int | None, today: date | None = None,
                     region_id: int | None = None) -> OpenObligations:
    """Open obligations (unpaid, partially paid, overdue) of a municipality (or all, of
    the region when ``region_id`` is given)."""
    today = today or date.today()
    o = Obligation
    overdue = state_condition(ObligationState.OVERDUE, today)
    stmt = select(
        func.count(o.id),
        func.count(o.id).filter(overdue),
        func.coalesce(func.sum(o.amount - o.amount_paid).filter(overdue), 0),
    ).where(o.amount_paid < o.amount)
    if municipality_id is not None:
        stmt = stmt.where(o.municipality_id == municipality_id)
    elif region_id is not None:
        stmt = stmt.where(in_region(o.municipality_id, region_id))
    count, overdue_count, overdue_amount = db_session.execute(stmt).one()
    return OpenObligations(int(count), int(overdue_count), int(overdue_amount))
