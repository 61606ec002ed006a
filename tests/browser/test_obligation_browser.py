"""On a phone: a citizen finds what they owe by customer ID (a service whose lookup is
required, with a payer list imported through the importer), sees only the masked name
and the amount, consents, pays with the demo gateway and downloads the receipt; the
obligation is then paid in the database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import LookupMode, Obligation, ObligationState, Payment
from app.obligations.importing import import_obligations
from tests.browser.helpers import a11y_smoke, horizontal_overflow, run_axe
from tests.factories import make_municipality, make_service

pytestmark = pytest.mark.browser

PAYER_LIST = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol\r\n"
    "ODP-2041;Jana Nováková;1 250,50;31. 12. 2099;20990041\r\n"
    "ODP-2042;Petr Šťastný;800;31. 12. 2099;20990042\r\n"
).encode("cp1250")


def _seed(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou", iban="CZ6508000000192000145399")
        service = make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000,
                               lookup_mode=LookupMode.REQUIRED, amount_match="exact")
        report = import_obligations(service, PAYER_LIST, "predpisy.csv")
        assert report.imported and report.inserted == 2, report.lines()
        slugs = (m.slug, service.slug)
        db_session.remove()
        return slugs


def _check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    assert horizontal_overflow(page) <= 0, f"{name}: sideways scroll on a phone"
    assert a11y_smoke(page) == [], name
    assert run_axe(page) == [], name


def test_citizen_finds_the_obligation_pays_it_and_downloads_the_receipt(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    m_slug, s_slug = _seed(live.app)
    page = phone
    page.goto(f"{live.url}/obec/{m_slug}/{s_slug}")
    # With a required lookup there is nothing to pay before the customer ID is found.
    assert page.get_by_role("button", name="Pokračovat").count() == 0
    page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("ODP-9999")
    page.get_by_role("button", name="Vyhledat").click()
    page.wait_for_selector("#lookup-result")
    assert "nic nenašli" in page.inner_text("#lookup-result")

    page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("ODP-2041")
    page.get_by_role("button", name="Vyhledat").click()
    page.wait_for_selector("#obligation-heading")
    found = page.inner_text(".obligation")
    assert "J*** N***" in found and "1\u00a0250,50\u00a0Kč" in found
    assert "Nováková" not in page.content()  # nothing beyond the masked name
    _check(page, "obligation found")

    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    external_id = page.url.rsplit("/", 1)[1]
    assert "1\u00a0250,50\u00a0Kč" in page.inner_text("main")

    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit kartou").click()
    page.wait_for_url("**/demo-gateway/**")
    page.get_by_role("button", name="Zaplatit", exact=True).click()
    page.wait_for_url(f"**/platba/{external_id}/zaplaceno")
    assert "Zaplaceno" in page.inner_text("h1")

    with page.expect_download() as info:
        page.get_by_role("link", name="Stáhnout potvrzení (PDF)").click()
    with open(info.value.path(), "rb") as fh:
        assert fh.read().startswith(b"%PDF")

    with live.app.app_context():
        payment = db_session.scalar(select(Payment).where(Payment.external_id == external_id))
        assert payment.state == "paid" and payment.amount == 125050
        obligation = db_session.scalar(select(Obligation).where(Obligation.customer_id == "ODP-2041"))
        assert payment.obligation_id == obligation.id
        assert obligation.amount_paid == 125050 and obligation.state == ObligationState.PAID
        other = db_session.scalar(select(Obligation).where(Obligation.customer_id == "ODP-2042"))
        assert other.amount_paid == 0
        db_session.remove()
