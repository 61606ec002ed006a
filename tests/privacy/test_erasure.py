"""Erasure that holds: after a citizen's request or a clerk's erasure of a payer, no
table and no export file holds the payer's name or e-mail; the accounting record stays
and the audit entry of the erasure names nothing erased."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from app.db import Base, db_session
from app.identity.session import CITIZEN_KEY
from app.models import AuditLog, Citizen, Obligation, Payment, PaymentState, Receipt
from tests.factories import make_municipality, make_payment, make_service
from tests.privacy.privacy_helpers import at, make_consent, make_copies, make_obligation, make_staff

NAME, EMAIL = "Jana Nováková", "jana.novakova@example.cz"
OTHER_NAME, OTHER_EMAIL = "Petr Svoboda", "petr.svoboda@example.cz"


def _forms(value: str) -> set[str]:
    # JSON columns keep non-ASCII letters escaped.
    return {value, json.dumps(value)[1:-1]}


def find_everywhere(values: list[str], export_dir: Path) -> list[str]:
    """Every table row and export file that still contains one of ``values``."""
    forms = {f for v in values for f in _forms(v)}
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in db_session.execute(select(table)).all():
            text = " ".join(
                v.decode("utf-8", "replace")
                if isinstance(v, bytes)
                else json.dumps(v, default=str, ensure_ascii=False) + json.dumps(v, default=str)
                for v in row
            )
            hits += [f"{table.name}: {f}" for f in forms if f in text]
    for path in export_dir.rglob("*"):
        if path.is_file():
            hits += [f"{path.name}: {f}" for f in forms if f in path.read_text("utf-8", "replace")]
    return hits


def _world(tmp_path: Path):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    staff = make_staff(m)
    citizen = Citizen(provider="bankid", subject="sub-jana", name=NAME, email=EMAIL, created_at=at(2026, 1, 1))
    db_session.add(citizen)
    db_session.commit()
    ob = make_obligation(s, customer_id="P-1", payer_name=NAME, note=f"kontakt {EMAIL}")
    paid = make_payment(
        s,
        state=PaymentState.PAID,
        payer_name=NAME,
        payer_email=EMAIL,
        obligation_id=ob.id,
        citizen_id=citizen.id,
        paid_at=at(2026, 2, 1),
        variable_symbol="1234567890",
    )
    receipt = Receipt(
        payment_id=paid.id, municipality_id=m.id, year=2026, number=1, full_number="2026/000001", token="r" * 40
    )
    db_session.add(receipt)
    free = make_payment(s, state=PaymentState.EXPIRED, payer_name=NAME, payer_email=EMAIL.upper())
    make_consent(paid, at(2026, 2, 1))
    other_ob = make_obligation(s, customer_id="P-2", payer_name=OTHER_NAME)
    other = make_payment(
        s, state=PaymentState.PAID, payer_name=OTHER_NAME, payer_email=OTHER_EMAIL, obligation_id=other_ob.id
    )
    exports = tmp_path / "exports"
    copies = make_copies(paid, ob, staff, exports, at(2026, 5, 1))
    make_copies(free, ob, staff, exports, at(2026, 5, 1))
    assert find_everywhere([NAME, EMAIL], exports)  # the check finds what is there
    return {
        "m": m,
        "staff": staff,
        "citizen": citizen,
        "ob": ob,
        "paid": paid,
        "free": free,
        "other": other,
        "other_ob": other_ob,
        "exports": exports,
        "copies": copies,
    }


def _accounting_record_stays(w) -> None:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    paid = db_session.get(Payment, w["paid"].id)
    assert (paid.amount, paid.state, paid.service_id, paid.municipality_id, paid.variable_symbol) == (
        w["paid"].amount,
        "paid",
        w["paid"].service_id,
        w["m"].id,
        "1234567890",
    )
    assert paid.paid_at is not None
    assert db_session.scalar(select(Receipt.full_number).where(Receipt.payment_id == paid.id)) == "2026/000001"
    # The other payer is untouched.
    assert db_session.get(Payment, w["other"].id).payer_email == OTHER_EMAIL
    assert db_session.get(Obligation, w["other_ob"].id).payer_name == OTHER_NAME


def _erasure_entry() -> AuditLog:
    entry = db_session.scalar(select(AuditLog).where(AuditLog.action == "privacy.erase"))
    assert entry is not None
    text = json.dumps([entry.before, entry.after, entry.object_id, entry.staff_email], ensure_ascii=False)
    assert NAME not in text and EMAIL not in text and "P-1" not in text and "Nov" not in text
    return entry


def test_clerk_erases_a_payer_everywhere(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    runner = app.test_cli_runner()
    args = [
        "privacy",
        "erase-payer",
        "--municipality",
        w["m"].slug,
        "--customer-id",
        "P-1",
        "--email",
        EMAIL,
        "--staff",
        w["staff"].email,
    ]
    r = runner.invoke(args=args)
    assert r.exit_code == 0 and "found 2 payments and 1 obligations" in r.output and "add --yes" in r.output
    assert find_everywhere([NAME, EMAIL], w["exports"])  # without --yes nothing changes

    r = runner.invoke(args=[*args, "--yes"])
    assert r.exit_code == 0, r.output
    db_session.expire_all()
    # Only the citizen's own account still has them (see below).
    assert [h for h in find_everywhere([NAME, EMAIL], w["exports"]) if not h.startswith("citizen:")] == []
    # The clerk's erasure is about the payer in the municipality's records; the citizen's
    # own account is the citizen's to delete (or the retention job's).
    assert db_session.get(Citizen, w["citizen"].id) is not None
    _accounting_record_stays(w)
    entry = _erasure_entry()
    assert entry.staff_id == w["staff"].id and entry.after["actor"] == "clerk"
    assert entry.after["counts"]["payments"] == 2 and entry.after["counts"]["export_files"] == 2


def test_citizen_erasure_request_removes_the_data_everywhere(app, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = _world(tmp_path)
    with client.session_transaction() as s:
        s[CITIZEN_KEY] = w["citizen"].id
    r = client.post("/ucet/smazat", data={"confirm": "1"})
    assert r.status_code == 303
    db_session.expire_all()
    # The expired payment was made without logging in: only the account's payments go.
    leftovers = find_everywhere([NAME, EMAIL], w["exports"])
    assert leftovers and all(
        h.startswith(("payment:", "obligation:", "audit_log:", "payment_event:", "obligation_import:"))
        for h in leftovers
    )
    assert db_session.get(Citizen, w["citizen"].id) is None
    paid = db_session.get(Payment, w["paid"].id)
    assert (paid.payer_name, paid.payer_email, paid.citizen_id) == ("", "", None)
    assert list(w["exports"].iterdir()) == []  # export files of the municipality are gone
    _accounting_record_stays(w)
    assert _erasure_entry().after["actor"] == "citizen"


def test_erase_payer_needs_a_known_municipality_and_payer(app) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    r = runner.invoke(args=["privacy", "erase-payer", "--municipality", "nikde"])
    assert r.exit_code == 2 and "--customer-id" in r.output
    r = runner.invoke(args=["privacy", "erase-payer", "--municipality", "nikde", "--email", "a@b.cz"])
    assert r.exit_code == 2 and "no municipality" in r.output
    m = make_municipality()
    r = runner.invoke(args=["privacy", "erase-payer", "--municipality", m.slug, "--email", "a@b.cz", "--yes"])
    assert r.exit_code == 1 and "found 0 payments" in r.output
