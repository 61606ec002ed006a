"""The right account and the right gateway: a service's own account in QR Platba and on
receipts, an obligation's own variable symbol, and the demo gateway kept away from live
municipalities (and labelled wherever it is used)."""

from __future__ import annotations

import uuid

import pytest

from app.db import db_session
from app.models import LookupMode, PaymentState, VariableSymbolRule
from app.obligations.importing import import_obligations
from app.payments.create import create_payment, offered_gateways, start_payment
from app.payments.errors import PaymentError
from app.qr import format_iban, transfer_for_payment, transfer_for_service
from app.receipts.issuing import issue_receipt
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_service

MUNICIPALITY_IBAN = "CZ6508000000192000145399"
SERVICE_IBAN = "CZ5508000000001234567899"


def test_qr_platba_uses_the_services_own_account(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(iban=MUNICIPALITY_IBAN)
    own = make_service(m, iban=SERVICE_IBAN, slug="psi", vs_rule=VariableSymbolRule.FIXED)
    shared = make_service(m, slug="odpad", vs_rule=VariableSymbolRule.FIXED)
    assert transfer_for_service(own).iban == SERVICE_IBAN
    assert f"ACC:{SERVICE_IBAN}*" in transfer_for_service(own).spayd
    assert transfer_for_service(shared).iban == MUNICIPALITY_IBAN
    assert transfer_for_payment(make_payment(own, variable_symbol="1234567890")).iban == SERVICE_IBAN
    assert transfer_for_payment(make_payment(shared, variable_symbol="1234567890")).iban == MUNICIPALITY_IBAN
    page = client.get(f"/obec/{m.slug}/psi").text
    assert format_iban(SERVICE_IBAN) in page and format_iban(MUNICIPALITY_IBAN) not in page


def test_receipt_names_the_services_account(app, client) -> None:  # type: ignore[no-untyped-def]
    s = make_service(make_municipality(iban=MUNICIPALITY_IBAN), iban=SERVICE_IBAN)
    payment = make_payment(s, state=PaymentState.PAID)
    receipt = issue_receipt(payment)
    db_session.commit()
    page = client.get(f"/potvrzeni/{receipt.token}").text
    assert "1234567899/0800" in page and "192000145399" not in page


def test_obligation_lookup_shows_the_obligations_own_variable_symbol(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(slug=f"obec-{uuid.uuid4().hex[:6]}")
    s = make_service(m, slug="odpad", lookup_mode=LookupMode.OPTIONAL, variable_symbol="1337", iban=SERVICE_IBAN)
    csv = "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol\nZ-1;Jana Nováková;1 250,50;31. 12. 2099;2099001\n"
    assert import_obligations(s, csv.encode(), "seznam.csv").imported
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1"}).text
    assert "variabilní symbol 2099001" in page
    assert "variabilní symbol 1337" not in page
    assert "1250,50" in page  # what remains, as a bank form wants it


@pytest.fixture
def production_app(db_url: str):  # type: ignore[no-untyped-def]
    """A production-like deployment: the demo gateway is not allowed for live municipalities."""
    app = make_test_app(db_url, ALLOW_DEMO_GATEWAY=False, ENABLED_GATEWAYS=["demo", "stripe"])
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_demo_gateway_is_refused_for_a_live_municipality(production_app) -> None:  # type: ignore[no-untyped-def]
    live = make_municipality(demo_mode=False)
    both = make_service(live, allowed_gateways=["demo", "stripe"])
    only_demo = make_service(live, allowed_gateways=["demo"])
    assert offered_gateways(both) == ["stripe"]
    assert offered_gateways(only_demo) == []
    with pytest.raises(PaymentError):
        create_payment(only_demo, amount=None, payer_name="Jan", payer_email="jan@example.cz")
    with pytest.raises(PaymentError):
        create_payment(both, amount=None, payer_name="Jan", payer_email="jan@example.cz", gateway_name="demo")
    # A demo payment created before the municipality went live is never started.
    stale = make_payment(both, gateway_name="demo")
    start_payment(stale, return_url="http://localhost/r", notify_url="http://localhost/n")
    assert stale.state == PaymentState.FAILED and stale.gateway_reference is None
    # A municipality in demo mode still uses it.
    assert offered_gateways(make_service(make_municipality(demo_mode=True))) == ["demo"]


def test_demo_payments_say_no_money_moved(app, client) -> None:  # type: ignore[no-untyped-def]
    s = make_service(make_municipality(demo_mode=False), allowed_gateways=["demo", "stripe"])
    payment = create_payment(s, amount=None, payer_name="Jan", payer_email="jan@example.cz", gateway_name="demo")
    assert "žádné peníze se nepřevádějí" in client.get(f"/platba/{payment.external_id}").text
    payment.state = PaymentState.PAID
    receipt = issue_receipt(payment)
    db_session.commit()
    assert "žádné peníze se nepřevádějí" in client.get(f"/potvrzeni/{receipt.token}").text
    from app.receipts.issuing import receipt_context

    assert receipt_context(receipt)["demo"] is True
    real = make_payment(
        make_service(make_municipality(demo_mode=False), allowed_gateways=["stripe"]), gateway_name="stripe"
    )
    assert "žádné peníze" not in client.get(f"/platba/{real.external_id}").text


def test_exports_name_the_services_own_account(app) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from tests.admin.staff_helpers import login, make_staff

    m = make_municipality(iban=MUNICIPALITY_IBAN)
    make_payment(make_service(m, iban=SERVICE_IBAN), state=PaymentState.PAID, payer_name="Vlastní účet")
    make_payment(make_service(m), state=PaymentState.PAID, payer_name="Účet obce")
    c = app.test_client()
    login(c, make_staff("clerk", m))
    r = c.post("/admin/platby/export", data={"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    account = rows[0].index("Účet příjemce")
    assert {row[11]: row[account] for row in rows[1:]} == {
        "Vlastní účet": SERVICE_IBAN,
        "Účet obce": MUNICIPALITY_IBAN,
    }
