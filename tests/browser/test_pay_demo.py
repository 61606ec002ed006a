"""A citizen pays a municipal fee on a phone with the demo gateway: home page → search →
municipality → service → form → review → gateway → return → success. Accessibility and
layout are checked on every page on the way."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import AmountMode, GatewayNotification, Payment
from tests.browser.helpers import a11y_smoke, horizontal_overflow, run_axe
from tests.factories import make_municipality, make_service

pytestmark = pytest.mark.browser


def check_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    assert horizontal_overflow(page) <= 0, f"{name}: sideways scroll on a phone"
    assert a11y_smoke(page) == [], name
    assert run_axe(page) == [], name


def seed(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou", district="Liberec")
        make_municipality(name="Chrastava", slug="chrastava")
        fixed = make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000,
                             description="Roční poplatek za osobu s trvalým pobytem v obci.")
        chosen = make_service(m, name="Poplatek z pobytu", slug="pobyt", amount_mode=AmountMode.PAYER, amount=None,
                              amount_min=2000, amount_max=1000000)
        db_session.remove()
        return m.slug, fixed.slug, chosen.slug


@pytest.mark.parametrize("service", ["fixed", "payer"])
def test_citizen_pays_on_a_phone_with_the_demo_gateway(live_server, phone, service) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    _, fixed_slug, chosen_slug = seed(live.app)
    page = phone

    page.goto(live.url + "/")
    check_page(page, "home")
    page.get_by_label("Najděte svou obec").fill("hrádek")
    page.get_by_role("button", name="Hledat").click()
    page.wait_for_url(re.compile(r"\?q="))
    assert page.get_by_role("link", name="Chrastava").count() == 0
    page.get_by_role("link", name="Hrádek nad Nisou").click()
    page.wait_for_url("**/obec/hradek-nad-nisou")
    check_page(page, "municipality")

    name = "Poplatek za komunální odpad" if service == "fixed" else "Poplatek z pobytu"
    page.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/obec/hradek-nad-nisou/{fixed_slug if service == 'fixed' else chosen_slug}")
    check_page(page, "pay form")

    # First an empty submission: the error summary and inline errors must be accessible too.
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_selector("#error-summary")
    assert "Vyplňte jméno a příjmení plátce." in page.inner_text("#error-summary")
    check_page(page, "pay form with errors")
    if service == "payer":
        assert "Zadejte částku." in page.inner_text("#error-summary")
        page.get_by_label("Částka v Kč").fill("5")  # below the minimum of 20 Kč
        page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
        page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
        page.get_by_role("button", name="Pokračovat").click()
        page.wait_for_selector("#amount-error")
        assert "Nejnižší možná částka je 20" in page.inner_text("#amount-error")
        assert page.get_attribute("#amount", "aria-invalid") == "true"
        page.get_by_label("Částka v Kč").fill("1 250,50")
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()

    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    external_id = page.url.rsplit("/", 1)[1]
    expected = "800\u00a0Kč" if service == "fixed" else "1\u00a0250,50\u00a0Kč"
    assert expected in page.inner_text("main")
    check_page(page, "review")
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit kartou").click()

    page.wait_for_url("**/demo-gateway/**")
    assert horizontal_overflow(page) <= 0
    page.get_by_role("button", name="Zaplatit", exact=True).click()

    page.wait_for_url(f"**/platba/{external_id}/zaplaceno")
    assert "Zaplaceno" in page.inner_text("h1")
    assert external_id in page.inner_text("main")
    check_page(page, "success")

    with live.app.app_context():
        payment = db_session.scalar(select(Payment).where(Payment.external_id == external_id))
        assert payment.state == "paid"
        assert payment.amount == (80000 if service == "fixed" else 125050)
        # The gateway's signed notification also arrived over real HTTP and was processed.
        deadline = time.monotonic() + 15
        note = None
        while time.monotonic() < deadline:
            db_session.expire_all()
            note = db_session.scalar(select(GatewayNotification).where(GatewayNotification.reference == payment.gateway_reference))
            if note is not None and note.processed_at is not None:
                break
            time.sleep(0.2)
        assert note is not None and note.event_type == "payment.paid" and note.processed_at is not None
        db_session.remove()


def test_declined_payment_on_a_phone_offers_another_try(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    m_slug, fixed_slug, _ = seed(live.app)
    page = phone
    page.goto(f"{live.url}/obec/{m_slug}/{fixed_slug}")
    page.get_by_label("Jméno a příjmení plátce").fill("Jan Novák")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jan@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit kartou").click()
    page.wait_for_url("**/demo-gateway/**")
    page.get_by_role("button", name="Zamítnout platbu").click()
    page.wait_for_url("**/stav")
    assert page.inner_text("h1") == "Platba se nezdařila"
    check_page(page, "declined")
    page.get_by_role("link", name="Zkusit zaplatit znovu").click()
    page.wait_for_url(f"**/obec/{m_slug}/{fixed_slug}")


def test_not_found_page_is_accessible(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    response = phone.goto(live.url + "/obec/neexistuje")
    assert response.status == 404
    check_page(phone, "404")


def test_the_checks_themselves_catch_a_bad_page(phone) -> None:  # type: ignore[no-untyped-def]
    # Guards the checks above against passing vacuously.
    phone.set_content(
        "<html><head><title>x</title></head><body><h1>a</h1><h1>b</h1>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='><input name='q'>"
        "<div style='width:2000px'>wide</div></body></html>"
    )
    assert horizontal_overflow(phone) > 0
    problems = a11y_smoke(phone)
    assert "html has no lang" in problems and "2 h1 elements" in problems
    assert any(p.startswith("unlabelled INPUT") for p in problems) and any("alt" in p for p in problems)
    ids = {v["id"] for v in run_axe(phone)}
    assert {"image-alt", "label", "html-has-lang"} <= ids
