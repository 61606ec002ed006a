"""The clerks' bank screens through the app: upload (and clear refusals), the statement,
the unmatched queue with search, manual match, undo, return to sender and its CSV, the
accounts page with the last Fio pull and its error, the operator's regional view."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from app.db import db_session, utcnow
from app.models import AuditLog, BankLine, BankStatement, Payment
from tests.admin.staff_helpers import login, make_staff
from tests.banking.conftest import SAMPLES, Bank, add_obligation
from tests.factories import make_municipality


def upload(client, name: str, data: bytes | None = None):  # type: ignore[no-untyped-def]
    payload = data if data is not None else (SAMPLES / name).read_bytes()
    return client.post("/admin/banka/nahrat", data={"file": (io.BytesIO(payload), name)},
                       content_type="multipart/form-data")  # fmt: skip


def clerk_client(app, bank: Bank, role: str = "clerk"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, make_staff(role, bank.municipality, email=f"{role}@svetla.cz"))
    return client


def test_upload_match_by_hand_see_the_receipt_undo_and_return(app, bank: Bank) -> None:  # type: ignore[no-untyped-def]
    client = clerk_client(app, bank)
    r = upload(client, "fio_week_camt053.xml")
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "5 / 1 / 2" in page and "souhlasí s pohyby" in page and "Dvořák Jan" in page
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "bank_statement.import")) == 1  # fmt: skip

    queue = client.get("/admin/banka/nesparovane?q=Kůň").get_data(as_text=True)
    assert "Neznámý variabilní symbol" in queue and "1071234503/6100" in queue
    assert "Kůň" not in client.get("/admin/banka/nesparovane?q=Dvořák").get_data(as_text=True)
    assert "Kůň" in client.get("/admin/banka/nesparovane?q=1000").get_data(as_text=True)  # by amount

    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()
    add_obligation(bank.service, "2026555555", 100000, "C555", "Kůň Ondřej")
    r = client.post(f"/admin/banka/pohyby/{line.id}/sparovat", data={"target": "2026555555"})
    assert r.status_code == 303
    detail = client.get(f"/admin/banka/pohyby/{line.id}").get_data(as_text=True)
    assert "Spárováno ručně" in detail and "clerk@svetla.cz" in detail
    payment = db_session.scalars(select(Payment).where(Payment.variable_symbol == "77")).one()
    receipt_page = client.get(f"/admin/platby/{payment.external_id}")
    assert receipt_page.status_code == 200 and "2026/000007" in receipt_page.get_data(as_text=True)

    assert client.post(f"/admin/banka/pohyby/{line.id}/zrusit").status_code == 303
    db_session.expire_all()
    assert db_session.get(BankLine, line.id).status == "unmatched"
    assert client.post(f"/admin/banka/pohyby/{line.id}/vratit").status_code == 303
    csv = client.get("/admin/banka/vratky.csv").get_data(as_text=True)
    assert "1071234503;6100" in csv and "vraceni platby" in csv


def test_bad_uploads_say_why_and_import_nothing(app, bank: Bank) -> None:  # type: ignore[no-untyped-def]
    client = clerk_client(app, bank)
    cases = {
        "broken_truncated_camt053.xml": "neúplný",
        "broken_wrong_encoding_camt053.xml": "kódování",
        "broken_balance_mismatch.gpc": "zůstatek",
        "make_samples.py": "není bankovní výpis",
    }
    for name, words in cases.items():
        r = upload(client, name)
        assert r.status_code == 422 and words in r.get_data(as_text=True), name
        assert "Nic nebylo načteno" in r.get_data(as_text=True)
    big = upload(client, "huge.xml", b"<" + b" " * (50 * 1024 * 1024))
    assert big.status_code == 422 and "50 MB" in big.get_data(as_text=True)
    # A statement of another municipality's account.
    other = make_municipality(name="Hodkovice nad Mohelkou")
    from app.banking.accounts import create_account

    create_account(other.id, "19-2000145399/0800")
    db_session.commit()
    other_data = (SAMPLES / "fio_week_camt053.xml").read_bytes().replace(b"2801234578", b"2000145399")
    r = upload(client, "cizi.xml", other_data)
    assert r.status_code == 422 and "není účtem vaší obce" in r.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(BankStatement)) == 0


def test_accounts_show_the_last_pull_and_its_error_and_the_operator_sees_the_region(app, bank: Bank) -> None:  # type: ignore[no-untyped-def]
    bank.account.last_pull_at = utcnow()
    bank.account.last_pull_error = "Fio is unavailable (HTTP 503); try again later"
    bank.account.last_pull_error_at = utcnow()
    db_session.commit()
    admin = clerk_client(app, bank, "municipality_admin")
    page = admin.get("/admin/banka").get_data(as_text=True)
    assert "HTTP 503" in page and "2801234578/2010" in page
    r = admin.post("/admin/banka/ucty", data={"account": "19-2000145399/0800", "name": "Poplatky",
                                              "fio_token": "secret-token"})  # fmt: skip
    assert r.status_code == 303
    bad = admin.post("/admin/banka/ucty", data={"account": "12-34/0100x"})
    assert bad.status_code == 422
    operator = app.test_client()
    login(operator, make_staff("operator", None, email="op@kraj.cz"))
    region = operator.get("/admin/operator/banka").get_data(as_text=True)
    assert "Světlá pod Ještědem" in region and "HTTP 503" in region and "19-2000145399/0800" in region


def test_a_clerk_refunds_a_transfer_to_its_sender_and_confirms_it_sent(app, bank: Bank) -> None:  # type: ignore[no-untyped-def]
    from app.models import Refund

    client = clerk_client(app, bank)
    assert upload(client, "fio_week_camt053.xml").status_code == 303
    payment = db_session.scalars(select(Payment).where(Payment.variable_symbol == "2026000123")).one()
    url = f"/admin/platby/{payment.external_id}"
    assert "19-2000145399/0800" in client.get(url).get_data(as_text=True)
    form = {"amount": "1 500", "reason": "Zaplaceno dvakrát"}
    confirm = client.post(f"{url}/vratit", data=form)
    page = confirm.get_data(as_text=True)
    assert (
        confirm.status_code == 200 and "Opravdu vrátit?" in page and 'id="confirm-account">19-2000145399/0800' in page
    )
    assert db_session.scalar(select(func.count()).select_from(Refund)) == 0  # nothing before the confirmation
    r = client.post(f"{url}/vratit", data={**form, "confirm": "1"})
    assert r.status_code == 303
    detail = client.get(url).get_data(as_text=True)
    assert "Vrácení k odeslání z banky" in detail and "Potvrdit odeslání" in detail
    refund = db_session.scalars(select(Refund)).one()
    assert (refund.state, refund.counter_display) == ("requested", "19-2000145399/0800")
    db_session.refresh(payment)
    assert payment.state == "paid"

    viewer = clerk_client(app, bank, role="viewer")
    assert viewer.post(f"{url}/vratit/odeslano", data={"refund": str(refund.id)}).status_code == 403
    assert client.post(f"{url}/vratit/odeslano", data={"refund": "x"}).status_code == 400
    r = client.post(f"{url}/vratit/odeslano", data={"refund": str(refund.id)})
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "refunded"
    assert (db_session.get(Refund, refund.id).state, db_session.get(Refund, refund.id).confirmed_by) == (
        "succeeded", "clerk@svetla.cz")  # fmt: skip
    page = client.get(url).get_data(as_text=True)
    assert "Potvrdit odeslání" not in page
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "refund.sent")) == 1
    # A second confirmation is refused with a reason, nothing changes.
    again = client.post(f"{url}/vratit/odeslano", data={"refund": str(refund.id)}, follow_redirects=True)
    assert "Toto vrácení už není k odeslání." in again.get_data(as_text=True)
