"""The retention job: removes or anonymises what is past the period the registry sets
(``app.privacy.registry``), keeping the accounting record. Run it daily from cron
(``flask privacy retention``) or on the queue (``retention_job``); ``dry_run`` counts what
it would do and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select

from app.db import db_session, utcnow
from app.jobs import in_app
from app.models import (
    AuditLog,
    Citizen,
    ConsentRecord,
    ExportJob,
    GatewayNotification,
    ImportStatus,
    Obligation,
    ObligationImport,
    Payment,
    PaymentState,
)
from app.privacy import erasure
from app.privacy.registry import BY_KEY, PROCESSINGS, load_settings

PRAGUE = ZoneInfo("Europe/Prague")
S = PaymentState
UNPAID_STATES = (S.CREATED, S.FAILED, S.CANCELLED, S.EXPIRED)
PAID_STATES = (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED)


@dataclass(frozen=True)
class Outcome:
    key: str
    title: str
    action: str
    count: int
    cutoff: str

    def line(self, dry_run: bool) -> str:
        verb = {"delete": "delete", "anonymise": "anonymise", "erase": "erase"}[self.action]
        prefix = "would " if dry_run else ""
        return f"{self.key}: {prefix}{verb} {self.count} (older than {self.cutoff})"


def cutoff_for(key: str, period: int, now: datetime) -> datetime:
    """Records older than this are past their time. A period in years runs from the end
    of the accounting period (the calendar year in Prague) the record belongs to."""
    retention = BY_KEY[key].retention
    assert retention is not None
    if retention.unit == "days":
        return now - timedelta(days=period)
    year = now.astimezone(PRAGUE).year - period
    return datetime(year, 1, 1, tzinfo=PRAGUE).astimezone(UTC)


# Each kind: (ids past their time, what to do with them). The query never picks a row
# that was already handled, so the job can run any number of times.
def _abandoned_payments(cutoff: datetime) -> list[int]:
    return list(
        db_session.scalars(
            select(Payment.id).where(
                Payment.state.in_(UNPAID_STATES),
                Payment.created_at < cutoff,
                or_(Payment.payer_name != "", Payment.payer_email != ""),
            )
        )
    )


def _paid_payments(cutoff: datetime) -> list[int]:
    return list(
        db_session.scalars(
            select(Payment.id).where(
                Payment.state.in_(PAID_STATES),
                func.coalesce(Payment.paid_at, Payment.created_at) < cutoff,
                or_(Payment.payer_name != "", Payment.payer_email != ""),
            )
        )
    )


def _obligations(cutoff: datetime) -> list[int]:
    # The period of an obligation is the year of its due date (else of its upload).
    first_open_year = cutoff.astimezone(PRAGUE).year
    closed = or_(
        Obligation.due_date < date(first_open_year, 1, 1),
        and_(Obligation.due_date.is_(None), Obligation.created_at < cutoff),
    )
    return list(
        db_session.scalars(
            select(Obligation.id).where(closed, or_(Obligation.payer_name != "", Obligation.note.is_not(None)))
        )
    )


def _consents(cutoff: datetime) -> list[int]:
    return list(db_session.scalars(select(ConsentRecord.id).where(ConsentRecord.created_at < cutoff)))


def _citizens(cutoff: datetime) -> list[int]:
    return list(
        db_session.scalars(select(Citizen.id).where(func.coalesce(Citizen.last_login_at, Citizen.created_at) < cutoff))
    )


def _imports(cutoff: datetime) -> list[int]:
    finished = ObligationImport.status.in_([ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED])
    return list(
        db_session.scalars(
            select(ObligationImport.id).where(finished, ObligationImport.created_at < cutoff, ObligationImport.size > 0)
        )
    )


def _exports(cutoff: datetime) -> list[int]:
    return list(
        db_session.scalars(select(ExportJob.id).where(ExportJob.created_at < cutoff, ExportJob.file_path.is_not(None)))
    )


def _audit(cutoff: datetime) -> list[int]:
    return list(db_session.scalars(select(AuditLog.id).where(AuditLog.created_at < cutoff)))


def _notifications(cutoff: datetime) -> list[int]:
    return list(db_session.scalars(select(GatewayNotification.id).where(GatewayNotification.received_at < cutoff)))


def _delete(model: Any) -> Callable[[list[int]], None]:
    def run(ids: list[int]) -> None:
        for chunk in erasure._chunks(ids):
            db_session.execute(delete(model).where(model.id.in_(chunk)))

    return run


def _erase_citizens(ids: list[int]) -> None:
    for citizen_id in ids:
        erasure.erase_personal_data(
            citizen_id=citizen_id, actor="retention", account_payments=False, audit=False, commit=False
        )


_KINDS: dict[str, tuple[Callable[[datetime], list[int]], Callable[[list[int]], Any]]] = {
    "abandoned_payments": (_abandoned_payments, erasure.anonymise_payments),
    "paid_payments": (_paid_payments, erasure.anonymise_payments),
    "obligations": (_obligations, erasure.anonymise_obligations),
    "consent_records": (_consents, _delete(ConsentRecord)),
    "citizen_accounts": (_citizens, _erase_citizens),
    "obligation_imports": (_imports, lambda ids: erasure.clear_import_files(ObligationImport.id.in_(ids))),
    "export_files": (_exports, lambda ids: erasure.delete_export_files(ExportJob.id.in_(ids))),
    "audit_log": (_audit, _delete(AuditLog)),
    "gateway_logs": (_notifications, _delete(GatewayNotification)),
}


def run_retention(
    *, now: datetime | None = None, dry_run: bool = False, settings: dict[str, int] | None = None
) -> list[Outcome]:
    """Apply every kind's retention; one transaction per kind. Returns what was (or, with
    ``dry_run``, would be) done, in the registry's order."""
    now = now or utcnow()
    if settings is None:
        settings = current_app.config.get("RETENTION") or load_settings(current_app.config)
    outcomes: list[Outcome] = []
    for p in PROCESSINGS:
        if p.retention is None or p.key not in _KINDS:
            continue
        find, act = _KINDS[p.key]
        cutoff = cutoff_for(p.key, settings[p.key], now)
        ids = find(cutoff)
        if ids and not dry_run:
            act(ids)
            db_session.commit()
        else:
            db_session.rollback()
        outcomes.append(Outcome(p.key, p.title, p.retention.action, len(ids), cutoff.isoformat(timespec="seconds")))
    if not dry_run and any(o.count for o in outcomes):
        # Written after the audit kind ran, so this entry is never deleted by the same run.
        db_session.add(
            AuditLog(
                action="privacy.retention",
                staff_email="",
                object_type="Retention",
                after={o.key: o.count for o in outcomes if o.count},
                created_at=now,
            )
        )
        db_session.commit()
    return outcomes


@in_app
def retention_job(dry_run: bool = False) -> list[str]:
    """RQ entry point: plain values in and out."""
    return [o.line(dry_run) for o in run_retention(dry_run=dry_run)]
