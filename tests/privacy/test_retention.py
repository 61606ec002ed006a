"""The retention job with a moved clock (``now=``): what is past its time is removed or
anonymised, the accounting record stays, a dry run changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.db import db_session
from app.models import (
    AuditLog,
    Citizen,
    ConsentRecord,
    ExportJob,
    GatewayNotification,
    Obligation,
    ObligationImport,
    Payment,
    PaymentEvent,
    PaymentState,
    Receipt,
)
from app.privacy.retention import run_retention
from tests.factories import make_municipality, make_payment, make_service
from tests.privacy.privacy_helpers import at, make_consent, make_copies, make_obligation, make_staff

NOW = at(2026, 6, 1, 12)


def _world(tmp_path):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    staff = make_staff(m)
    w = {}
    # Abandoned 100 days ago (past 90) and 10 days ago (not yet).
    w["abandoned_old"] = make_payment(s, state=PaymentState.EXPIRED, created_at=at(2026, 2, 20))
    w["abandoned_new"] = make_payment(
        s, state=PaymentState.FAILED, created_at=at(2026, 5, 22), payer_name="Petr Malý", payer_email="petr@example.cz"
    )
    # Paid in 2015: its accounting period ended 31 Dec 2015, ten years ago. Paid in 2016: not yet.
    w["paid_2015"] = make_payment(
        s,
        state=PaymentState.PAID,
        created_at=at(2015, 12, 30),
        paid_at=at(2015, 12, 30),
        payer_name="Karel Starý",
        payer_email="karel@example.cz",
        variable_symbol="2015000001",
    )
    w["paid_2016"] = make_payment(
        s,
        state=PaymentState.PAID,
        created_at=at(2016, 1, 2),
        paid_at=at(2016, 1, 2),
        payer_name="Eva Nová",
        payer_email="eva@example.cz",
    )
    w["receipt"] = Receipt(
        payment_id=w["paid_2015"].id,
        municipality_id=m.id,
        year=2015,
        number=7,
        full_number="2015/000007",
        token="t" * 40,
        issued_at=at(2015, 12, 30),
    )
    db_session.add(w["receipt"])
    # Obligations due in 2020 (closed more than 5 years ago) and 2021 (not yet).
    w["ob_2020"] = make_obligation(
        s, customer_id="A-2020", payer_name="Jan Dlužník", due_date=date(2020, 3, 31), note="rodina Dlužníkova"
    )
    w["ob_2021"] = make_obligation(s, customer_id="A-2021", payer_name="Jana Platná", due_date=date(2021, 3, 31))
    w["consent_old"] = make_consent(w["paid_2015"], at(2023, 5, 1))
    w["consent_new"] = make_consent(w["paid_2016"], at(2024, 1, 1))
    w["citizen_old"] = Citizen(
        provider="bankid",
        subject="old",
        name="Ota Spící",
        email="ota@example.cz",
        created_at=at(2023, 1, 1),
        last_login_at=at(2024, 5, 1),
    )
    w["citizen_new"] = Citizen(
        provider="bankid", subject="new", name="Iva Bdělá", created_at=at(2023, 1, 1), last_login_at=at(2026, 1, 1)
    )
    db_session.add_all([w["citizen_old"], w["citizen_new"]])
    db_session.commit()
    w["paid_2016"].citizen_id = w["citizen_old"].id
    db_session.commit()
    # Copies made 200 days ago (export and upload past their time; audit and notifications:
    # audit not yet at 5 years, notifications past 90 days).
    w["copies_old"] = make_copies(w["abandoned_old"], w["ob_2020"], staff, tmp_path / "exports", at(2025, 11, 13))
    w["audit_ancient"] = AuditLog(action="service.update", staff_email="x@example.cz", created_at=at(2020, 1, 1))
    db_session.add(w["audit_ancient"])
    db_session.commit()
    return w


def _snapshot() -> dict[str, object]:
    db_session.expire_all()
    return {
        "payments": sorted((p.id, p.payer_name, p.payer_email) for p in db_session.scalars(select(Payment))),
        "obligations": sorted((o.id, o.payer_name, o.note) for o in db_session.scalars(select(Obligation))),
        "consents": db_session.scalar(select(func.count(ConsentRecord.id))),
        "citizens": db_session.scalar(select(func.count(Citizen.id))),
        "audit": db_session.scalar(select(func.count(AuditLog.id))),
        "notifications": db_session.scalar(select(func.count(GatewayNotification.id))),
        "imports": sorted((i.id, i.size) for i in db_session.scalars(select(ObligationImport))),
        "exports": sorted((e.id, e.file_path) for e in db_session.scalars(select(ExportJob))),
        "events": sorted((e.id, str(e.data)) for e in db_session.scalars(select(PaymentEvent))),
    }


def test_dry_run_reports_and_changes_nothing(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    before = _snapshot()
    outcomes = {o.key: o.count for o in run_retention(now=NOW, dry_run=True)}
    assert outcomes == {
        "abandoned_payments": 1,
        "paid_payments": 1,
        "obligations": 1,
        "consent_records": 1,
        "citizen_accounts": 1,
        "obligation_imports": 1,
        "export_files": 1,
        "audit_log": 1,
        "gateway_logs": 1,
    }
    assert _snapshot() == before
    assert w["copies_old"]["path"].exists()


def test_retention_anonymises_and_removes_what_is_past_its_time(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    run_retention(now=NOW)
    db_session.expire_all()
    get = db_session.get

    old = get(Payment, w["abandoned_old"].id)
    assert (old.payer_name, old.payer_email) == ("", "") and old.amount == w["abandoned_old"].amount
    assert get(Payment, w["abandoned_new"].id).payer_name == "Petr Malý"

    # The accounting record of 2015 stays: amount, dates, service, municipality, VS, receipt number.
    paid = get(Payment, w["paid_2015"].id)
    assert (paid.payer_name, paid.payer_email) == ("", "")
    assert (paid.amount, paid.state, paid.service_id, paid.municipality_id, paid.variable_symbol) == (
        w["paid_2015"].amount,
        "paid",
        w["paid_2015"].service_id,
        w["paid_2015"].municipality_id,
        "2015000001",
    )
    assert paid.paid_at is not None
    assert db_session.scalar(select(Receipt.full_number).where(Receipt.payment_id == paid.id)) == "2015/000007"
    assert get(Payment, w["paid_2016"].id).payer_name == "Eva Nová"

    ob = get(Obligation, w["ob_2020"].id)
    assert (ob.payer_name, ob.note, ob.customer_id, ob.amount) == ("", None, "A-2020", 50000)
    assert get(Obligation, w["ob_2021"].id).payer_name == "Jana Platná"

    assert get(ConsentRecord, w["consent_old"].id) is None and get(ConsentRecord, w["consent_new"].id) is not None
    # The inactive account is gone; its payment stays with the payer's data (its own period).
    assert get(Citizen, w["citizen_old"].id) is None and get(Citizen, w["citizen_new"].id) is not None
    kept = get(Payment, w["paid_2016"].id)
    assert kept.citizen_id is None and kept.payer_email == "eva@example.cz"

    copies = w["copies_old"]
    upload = get(ObligationImport, copies["upload"].id)
    assert (upload.size, upload.content, upload.report) == (0, b"", None) and upload.filename == "platci.csv"
    assert get(ExportJob, copies["export"].id).file_path is None and not copies["path"].exists()
    assert get(GatewayNotification, copies["notification"].id) is None
    # (Not by id: SQLite reuses the highest deleted rowid for the job's own entry.)
    assert db_session.scalar(select(func.count(AuditLog.id)).where(AuditLog.created_at < at(2021, 1, 1))) == 0
    # The abandoned payment's copies in its history and the audit entry about it are scrubbed.
    event = get(PaymentEvent, copies["event"].id)
    assert "jana@example.cz" not in str(event.data) and event.data["gateway_status"] == "paid"
    audit = get(AuditLog, copies["audit"].id)
    assert "Nováková" not in str(audit.before) and audit.before["amount"] == w["abandoned_old"].amount

    entry = db_session.scalar(select(AuditLog).where(AuditLog.action == "privacy.retention"))
    assert entry.after["paid_payments"] == 1 and "Karel" not in str(entry.after)

    # A second run finds nothing left to do.
    assert {o.key: o.count for o in run_retention(now=NOW)} == dict.fromkeys(
        [
            "abandoned_payments",
            "paid_payments",
            "obligations",
            "consent_records",
            "citizen_accounts",
            "obligation_imports",
            "export_files",
            "audit_log",
            "gateway_logs",
        ],
        0,
    )


def test_moving_the_clock_a_year_on_reaches_the_next_accounting_period(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    # 31 Dec 2026, 23:30 in Prague is still 2026: the 2016 payment is not due yet.
    counts = {o.key: o.count for o in run_retention(now=at(2026, 12, 31, 22, 30), dry_run=True)}
    assert counts["paid_payments"] == 1
    # Half an hour later it is 2027 in Prague: the period of 2016 ended ten years ago.
    run_retention(now=at(2026, 12, 31, 23, 30))
    db_session.expire_all()
    assert db_session.get(Payment, w["paid_2016"].id).payer_name == ""


def test_shorter_settings_are_used(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    counts = {
        o.key: o.count
        for o in run_retention(
            now=NOW, dry_run=True, settings={**app.config["RETENTION"], "abandoned_payments": 5, "paid_payments": 5}
        )
    }
    assert counts["abandoned_payments"] == 2  # the one of 10 days ago too
    assert counts["paid_payments"] == 2  # 2015 and 2016 (2020 and earlier ended 5 years ago)
    assert w


def test_cli_dry_run_prints_what_it_would_do(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    before = _snapshot()
    r = app.test_cli_runner().invoke(args=["privacy", "retention", "--dry-run", "--now", "2026-06-01T12:00:00"])
    assert r.exit_code == 0, r.output
    assert "paid_payments: would anonymise 1 (older than 2015-12-31T23:00:00+00:00)" in r.output
    assert "consent_records: would delete 1" in r.output and "dry run: nothing was changed" in r.output
    assert _snapshot() == before
    r = app.test_cli_runner().invoke(args=["privacy", "retention", "--now", "1. června"])
    assert r.exit_code == 2 and "ISO 8601" in r.output
    # The queue's entry point takes and returns plain values.
    from app.privacy.retention import retention_job

    lines = retention_job(dry_run=True)
    assert any(line.startswith("abandoned_payments: would anonymise") for line in lines)
    assert _snapshot() == before and w
