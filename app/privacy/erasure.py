"""Erasure of a person's data wherever the portal copied it, for the citizen's own
request (``/ucet/smazat``), a clerk's erasure of a payer (``flask privacy erase-payer``)
and the retention job.

Where a payer's data is copied: the payment (name, e-mail), the bank line a transfer came
on (the payer's name, account and message as the bank sent them), its history
(``PaymentEvent.data``: gateway messages), audit snapshots (``AuditLog.before/after``), the
obligation (name, note), the uploaded payer list it came from (``ObligationImport``), and
export files on disk (``ExportJob.file_path``). Receipts hold no personal data of their
own (the PDF is rendered from the payment); consent records and gateway notifications
hold none either (no payload is stored); e-mails are not kept.

What stays is the accounting record: amount, dates, service, municipality, variable
symbol, state and the receipt's number. The audit entry of an erasure names no erased
value, only what kind of rows changed and how many.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update

from app.db import db_session, utcnow
from app.models import (
    AuditLog,
    BankLine,
    BankLineMatch,
    Citizen,
    CitizenCustomerId,
    ConsentRecord,
    ExportJob,
    ExportStatus,
    ImportStatus,
    Obligation,
    ObligationImport,
    Payment,
    PaymentEvent,
    Refund,
    Service,
)

ERASED = "[smazáno]"
# Columns holding a person's data, cleared by anonymisation ("" for NOT NULL text).
PAYMENT_FIELDS = {"payer_name": "", "payer_email": "", "gateway_redirect_url": None, "gateway_client_secret": None}
# A bank transfer's line: the payer as the bank sent them (name, account, message).
BANK_LINE_FIELDS = {"counter_name": None, "counter_account": None, "counter_bank_code": None, "counter_iban": None,
                    "message": None}  # fmt: skip
OBLIGATION_FIELDS = {"payer_name": "", "note": None, "payer_email": None, "birth_number_hmac": None}
# A bank transfer's refund names the account it goes back to (the sender's).
REFUND_FIELDS = {"counter_name": None, "counter_account": None, "counter_bank_code": None, "counter_iban": None}
# Keys that are personal wherever they appear in a JSON copy (events, audit snapshots).
PERSONAL_KEYS = frozenset({"payer_name", "payer_email", "email", "name", "note", "birth_number_hmac"})
_CHUNK = 500


@dataclass
class ErasureResult:
    payments: int = 0
    bank_lines: int = 0
    obligations: int = 0
    payment_events: int = 0
    audit_entries: int = 0
    obligation_imports: int = 0
    export_files: int = 0
    customer_ids: int = 0
    citizen: int = 0
    payment_ids: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


def scrub(value: Any, secrets: Sequence[str]) -> tuple[Any, bool]:
    """A JSON value with personal keys and every string containing one of ``secrets``
    replaced by ERASED; returns (value, changed)."""
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            if k in PERSONAL_KEYS and v not in (None, "", ERASED):
                out[k], changed = ERASED, True
            else:
                out[k], c = scrub(v, secrets)
                changed |= c
        return out, changed
    if isinstance(value, list):
        items = [scrub(v, secrets) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, str) and any(s and s.lower() in value.lower() for s in secrets):
        return ERASED, True
    return value, False


def _secrets(values: Iterable[str | None]) -> list[str]:
    # Very short values ("A") would match everything; names and e-mails are longer.
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 3})


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _scrub_audit(rows: Iterable[AuditLog], secrets: Sequence[str]) -> int:
    n = 0
    for row in rows:
        before, c1 = scrub(row.before, secrets) if row.before is not None else (None, False)
        after, c2 = scrub(row.after, secrets) if row.after is not None else (None, False)
        if c1 or c2:
            row.before, row.after = before, after
            n += 1
    return n


def _audit_mentions(secrets: Sequence[str]) -> Any:
    """Audit entries whose snapshots contain one of the values, as stored: the JSON text
    escapes non-ASCII letters (json.dumps), so both spellings are searched."""
    forms = {f for s in secrets for f in (s, json.dumps(s)[1:-1])}
    columns = (cast(AuditLog.before, String), cast(AuditLog.after, String))
    return or_(*[c.contains(f, autoescape=True) for c in columns for f in sorted(forms)])


def anonymise_payments(payment_ids: Sequence[int], *, everywhere: bool = False) -> ErasureResult:
    """Clear the payer's data from these payments, their history and the audit entries
    about them. ``everywhere`` also searches every audit entry for the payer's name and
    e-mail (an erasure request; the retention job relies on the per-payment scrub)."""
    result = ErasureResult()
    for ids in _chunks(list(payment_ids)):
        rows = db_session.execute(
            select(Payment.id, Payment.external_id, Payment.payer_name, Payment.payer_email).where(Payment.id.in_(ids))
        ).all()
        if not rows:
            continue
        lines = db_session.execute(
            select(BankLine.id, BankLine.counter_name, BankLine.counter_account, BankLine.counter_iban)
            .join(BankLineMatch, BankLineMatch.line_id == BankLine.id)
            .where(BankLineMatch.payment_id.in_(ids))
        ).all()
        secrets = _secrets(
            [v for r in rows for v in (r.payer_name, r.payer_email)]
            + [v for r in lines for v in (r.counter_name, r.counter_account, r.counter_iban)]
        )
        if lines:
            result.bank_lines += db_session.execute(
                update(BankLine).where(BankLine.id.in_([r.id for r in lines])).values(**BANK_LINE_FIELDS)
            ).rowcount
        db_session.execute(update(Refund).where(Refund.payment_id.in_(ids)).values(**REFUND_FIELDS))
        external_ids = [r.external_id for r in rows]
        result.payment_ids += external_ids
        result.payments += db_session.execute(
            update(Payment).where(Payment.id.in_(ids)).values(**PAYMENT_FIELDS)
        ).rowcount
        for event in db_session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id.in_(ids))):
            data, changed = scrub(event.data, secrets)
            if changed:
                event.data = data
                result.payment_events += 1
        audit_where = (AuditLog.object_type == "Payment") & AuditLog.object_id.in_(external_ids)
        if everywhere and secrets:
            audit_where = or_(audit_where, _audit_mentions(secrets))
        result.audit_entries += _scrub_audit(db_session.scalars(select(AuditLog).where(audit_where)), secrets)
    return result


def anonymise_obligations(obligation_ids: Sequence[int], *, everywhere: bool = False) -> ErasureResult:
    result = ErasureResult()
    values = {k: v for k, v in OBLIGATION_FIELDS.items() if hasattr(Obligation, k)}
    for ids in _chunks(list(obligation_ids)):
        rows = db_session.execute(select(Obligation.id, Obligation.payer_name).where(Obligation.id.in_(ids))).all()
        if not rows:
            continue
        secrets = _secrets(r.payer_name for r in rows)
        result.obligations += db_session.execute(
            update(Obligation).where(Obligation.id.in_(ids)).values(**values)
        ).rowcount
        audit_where = (AuditLog.object_type == "Obligation") & AuditLog.object_id.in_([str(r.id) for r in rows])
        if everywhere and secrets:
            audit_where = or_(audit_where, _audit_mentions(secrets))
        result.audit_entries += _scrub_audit(db_session.scalars(select(AuditLog).where(audit_where)), secrets)
    return result


def clear_import_files(where: Any) -> int:
    """Drop the uploaded file and the row report of finished imports matching ``where``."""
    finished = ObligationImport.status.in_([ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED])
    return db_session.execute(
        update(ObligationImport)
        .where(finished, where, ObligationImport.size > 0)
        .values(content=b"", size=0, report=None)
    ).rowcount


def delete_export_files(where: Any) -> int:
    """Delete the files of finished exports matching ``where``; the export's record stays."""
    n = 0
    for job in db_session.scalars(select(ExportJob).where(where, ExportJob.file_path.is_not(None))):
        try:
            os.remove(job.file_path)  # type: ignore[arg-type]
        except FileNotFoundError:
            pass
        job.file_path = None
        if job.status == ExportStatus.DONE:
            job.error = "soubor smazán (ochrana osobních údajů)"
        n += 1
    return n


def _merge(total: ErasureResult, part: ErasureResult) -> None:
    for k, v in part.counts().items():
        setattr(total, k, getattr(total, k) + v)
    total.payment_ids += part.payment_ids


def erase_personal_data(
    *,
    citizen_id: int | None = None,
    payment_ids: Sequence[int] = (),
    obligation_ids: Sequence[int] = (),
    actor: str,
    staff_id: int | None = None,
    account_payments: bool = True,
    audit: bool = True,
    now: datetime | None = None,
    commit: bool = True,
) -> ErasureResult:
    """Erase one person's data: their account (``citizen_id``) with the payer's data on
    its payments, and the given payments and obligations, in every copy listed in the
    module's docstring. One audit entry records the erasure without any erased value.

    ``account_payments=False`` (the retention job's inactive accounts) removes the account
    only: its payments keep the payer's data until their own retention ends."""
    result = ErasureResult()
    payment_ids = list(payment_ids)
    municipalities: set[int] = set()
    if citizen_id is not None:
        if account_payments:
            payment_ids += list(db_session.scalars(select(Payment.id).where(Payment.citizen_id == citizen_id)))
        db_session.execute(update(ConsentRecord).where(ConsentRecord.citizen_id == citizen_id).values(citizen_id=None))
        db_session.execute(update(Payment).where(Payment.citizen_id == citizen_id).values(citizen_id=None))
        result.customer_ids = db_session.execute(
            delete(CitizenCustomerId).where(CitizenCustomerId.citizen_id == citizen_id)
        ).rowcount
        result.citizen = db_session.execute(delete(Citizen).where(Citizen.id == citizen_id)).rowcount
    payment_ids = sorted(set(payment_ids))
    obligation_ids = sorted(set(obligation_ids))
    services: set[int] = set()
    for ids in _chunks(payment_ids):
        for mid, sid in db_session.execute(
            select(Payment.municipality_id, Payment.service_id).where(Payment.id.in_(ids))
        ):
            municipalities.add(mid)
            services.add(sid)
    for ids in _chunks(obligation_ids):
        for mid, sid in db_session.execute(
            select(Obligation.municipality_id, Obligation.service_id).where(Obligation.id.in_(ids))
        ):
            municipalities.add(mid)
            services.add(sid)
    _merge(result, anonymise_payments(payment_ids, everywhere=True))
    _merge(result, anonymise_obligations(obligation_ids, everywhere=True))
    if services:
        # The uploaded lists of these services hold the payer too (an XLSX cannot be
        # edited row by row): the files go, the import records stay.
        result.obligation_imports = clear_import_files(ObligationImport.service_id.in_(sorted(services)))
    if municipalities:
        # Exports of these municipalities, and the operator's exports of all of them.
        result.export_files = delete_export_files(
            or_(ExportJob.municipality_id.in_(sorted(municipalities)), ExportJob.municipality_id.is_(None))
        )
    if audit:
        db_session.add(
            AuditLog(
                staff_id=staff_id,
                staff_email="",
                action="privacy.erase",
                object_type="PersonalData",
                object_id=None,
                municipality_id=next(iter(municipalities)) if len(municipalities) == 1 else None,
                before=None,
                after={"actor": actor, "counts": result.counts(), "payments": result.payment_ids},
                created_at=now or utcnow(),
            )
        )
    if commit:
        db_session.commit()
    return result


def find_payer(
    municipality_id: int, *, customer_id: str | None = None, email: str | None = None
) -> tuple[list[int], list[int]]:
    """(payment ids, obligation ids) of a payer in one municipality, by customer ID
    (their obligations and the payments of those) and/or by the e-mail given at payment."""
    obligation_ids: list[int] = []
    payment_ids: list[int] = []
    if customer_id:
        obligation_ids = list(
            db_session.scalars(
                select(Obligation.id)
                .join(Service, Service.id == Obligation.service_id)
                .where(Service.municipality_id == municipality_id, Obligation.customer_id == customer_id.strip())
            )
        )
        if obligation_ids:
            payment_ids += list(db_session.scalars(select(Payment.id).where(Payment.obligation_id.in_(obligation_ids))))
    if email and email.strip():
        payment_ids += list(
            db_session.scalars(
                select(Payment.id).where(
                    Payment.municipality_id == municipality_id, func.lower(Payment.payer_email) == email.strip().lower()
                )
            )
        )
    return sorted(set(payment_ids)), obligation_ids
