"""Rows holding a payer's data in every place the portal copies it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from app.db import db_session
from app.models import (
    AuditLog,
    ConsentRecord,
    ConsentText,
    ExportJob,
    ExportStatus,
    GatewayNotification,
    ImportStatus,
    Obligation,
    ObligationImport,
    PaymentEvent,
    StaffUser,
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_obligation(service, **kw) -> Obligation:  # type: ignore[no-untyped-def]
    o = Obligation(
        municipality_id=service.municipality_id,
        service_id=service.id,
        customer_id=kw.pop("customer_id", "P-1"),
        payer_name=kw.pop("payer_name", "Jana Nováková"),
        amount=kw.pop("amount", 50000),
        due_date=kw.pop("due_date", date(2026, 3, 31)),
        **kw,
    )
    db_session.add(o)
    db_session.commit()
    return o


def make_consent(payment, created_at: datetime) -> ConsentRecord:  # type: ignore[no-untyped-def]
    text = db_session.query(ConsentText).first()
    if text is None:
        text = ConsentText(kind="terms", version=1, title="Podmínky", body="…", hash="0" * 64)
        db_session.add(text)
        db_session.flush()
    c = ConsentRecord(
        consent_text_id=text.id, kind="terms", version=1, hash="0" * 64, payment_id=payment.id, created_at=created_at
    )
    db_session.add(c)
    db_session.commit()
    return c


def make_staff(municipality) -> StaffUser:  # type: ignore[no-untyped-def]
    s = StaffUser(
        email=f"urednik{municipality.id}@example.cz", name="Úředník", role="clerk", municipality_id=municipality.id
    )
    db_session.add(s)
    db_session.commit()
    return s


def make_copies(payment, obligation, staff, tmp: Path, when: datetime) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The copies of a payer's data the portal makes: a gateway message in the payment's
    history, an audit snapshot, an uploaded payer list, an export file on disk."""
    event = PaymentEvent(
        payment_id=payment.id,
        kind="gateway_message",
        reason="status",
        data={
            "gateway_status": "paid",
            "details": {"payer_email": payment.payer_email, "card_holder": payment.payer_name},
        },
        created_at=when,
    )
    audit = AuditLog(
        staff_id=staff.id,
        staff_email=staff.email,
        action="payment.refund",
        object_type="Payment",
        object_id=payment.external_id,
        municipality_id=payment.municipality_id,
        before={"payer_name": payment.payer_name, "payer_email": payment.payer_email, "amount": payment.amount},
        after={"amount_refunded": 0},
        created_at=when,
    )
    # An audit entry about something else that still quotes the payer (a note).
    other_audit = AuditLog(
        staff_id=staff.id,
        staff_email=staff.email,
        action="service.update",
        object_type="Service",
        object_id="1",
        municipality_id=payment.municipality_id,
        before=None,
        after={"comment": f"volal(a) {obligation.payer_name}"},
        created_at=when,
    )
    upload = ObligationImport(
        service_id=obligation.service_id,
        filename="platci.csv",
        content=f"{obligation.customer_id};{obligation.payer_name};500\n".encode(),
        size=40,
        status=ImportStatus.DONE,
        report={"errors": [{"value": obligation.payer_name}]},
        created_at=when,
    )
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"export-{payment.id}.csv"
    path.write_text(f"{payment.external_id};{payment.payer_name};{payment.payer_email}\n", encoding="utf-8")
    export = ExportJob(
        staff_id=staff.id,
        municipality_id=payment.municipality_id,
        format="csv",
        status=ExportStatus.DONE,
        row_count=1,
        file_path=str(path),
        created_at=when,
    )
    notification = GatewayNotification(
        gateway_name="demo",
        event_id=f"ev-{payment.id}",
        event_type="payment",
        reference=payment.gateway_reference or "ref",
        received_at=when,
    )
    db_session.add_all([event, audit, other_audit, upload, export, notification])
    db_session.commit()
    return {
        "event": event,
        "audit": audit,
        "other_audit": other_audit,
        "upload": upload,
        "export": export,
        "path": path,
        "notification": notification,
    }
