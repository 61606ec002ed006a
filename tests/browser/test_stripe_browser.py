"""A citizen pays by card in a real browser: Debian chromium driven by Playwright,
the app on a server thread, Stripe (API and Stripe.js) played by localstripe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import Payment
from tests.conftest import make_test_app, serve_app, stripe_settings
from tests.factories import make_municipality, make_service

pytestmark = pytest.mark.browser

@pytest.fixture
def live(db_url: str, stripe_server: str) -> Iterator[tuple[str, object]]:
    """The portal with demo and Stripe enabled, CSRF on, served on a real port."""
    app = make_test_app(db_url, **stripe_settings(stripe_server), WTF_CSRF_ENABLED=True)
    with app.app_context():
        m = make_municipality(name="Chrastava", slug="chrastava", demo_mode=False)
        s = make_service(m, name="Poplatek ze psů", slug="psi", amount=50000, allowed_gateways=["demo", "stripe"])
        with serve_app(app) as base:
            yield f"{base}/obec/{m.slug}/{s.slug}", app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def _pay_by_card(browser, pay_url: str, number: str, phone: bool = False):  # type: ignore[no-untyped-def]
    """Pay form → review (choose card) → card page, card typed into Stripe.js fields."""
    page = browser.new_page(locale="cs-CZ", viewport={"width": 375, "height": 740} if phone else None)
    page.set_default_timeout(15000)
    csp_violations: list[str] = []
    sent_to_us: list[str] = []
    page.on("console", lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    # Everything the browser sends to our server, to prove the card number never comes.
    ours = pay_url.split("/obec/")[0]
    page.on(
        "request",
        lambda req: sent_to_us.append(req.url + " " + (req.post_data or "")) if req.url.startswith(ours) else None,
    )
    page.goto(pay_url)
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url("**/platba/*")
    page.get_by_role("radio", name="Platební karta").check()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit").click()
    page.wait_for_url("**/karta")
    assert page.get_by_role("heading", name="Platba kartou").is_visible()
    # localstripe's Stripe.js renders plain inputs (real Stripe.js: an iframe).
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("34")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("46331")
    if phone:  # the card page fits a phone: nothing scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="Zaplatit 500").click()
    page.wait_for_load_state("networkidle")
    assert not [r for r in sent_to_us if number in r]  # the card number went to Stripe only
    return page, csp_violations, sent_to_us


def _payment(app) -> Payment:  # type: ignore[no-untyped-def]
    db_session.rollback()
    db_session.expire_all()
    return db_session.scalars(select(Payment)).one()


def test_citizen_pays_by_card(browser, live) -> None:  # type: ignore[no-untyped-def]
    pay_url, app = live
    page, csp, sent_to_us = _pay_by_card(browser, pay_url, "4242424242424242")
    page.wait_for_url("**/zaplaceno")
    assert page.get_by_role("heading", name="Zaplaceno, děkujeme").is_visible()
    payment = _payment(app)
    assert (payment.state, payment.gateway_name, payment.amount) == ("paid", "stripe", 50000)
    assert csp == []
    assert [r for r in sent_to_us if re.search(r'/karta/potvrdit \{"token":"tok_\w+"\}$', r)]
    page.close()


def test_3d_secure_completed_pays(browser, live) -> None:  # type: ignore[no-untyped-def]
    pay_url, app = live
    page, csp, _ = _pay_by_card(browser, pay_url, "4000002500003155", phone=True)
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url("**/zaplaceno")
    assert page.get_by_role("heading", name="Zaplaceno, děkujeme").is_visible()
    assert _payment(app).state == "paid" and csp == []
    page.close()


def test_3d_secure_failed_shows_the_failure(browser, live) -> None:  # type: ignore[no-untyped-def]
    pay_url, app = live
    page, _, _ = _pay_by_card(browser, pay_url, "4000002500003155")
    page.get_by_role("button", name="Fail authentication").click()
    page.wait_for_url("**/stav")
    assert page.get_by_role("heading", name="Platba se nezdařila").is_visible()
    assert _payment(app).state == "failed"
    page.close()


def test_declined_card_shows_the_failure(browser, live) -> None:  # type: ignore[no-untyped-def]
    pay_url, app = live
    page, _, _ = _pay_by_card(browser, pay_url, "4000000000000341")
    page.wait_for_url("**/stav")
    assert page.get_by_role("heading", name="Platba se nezdařila").is_visible()
    assert _payment(app).failure_reason == "card_declined"
    page.close()


def test_incomplete_card_is_announced_and_nothing_is_paid(browser, live) -> None:  # type: ignore[no-untyped-def]
    pay_url, app = live
    page, _, _ = _pay_by_card(browser, pay_url, "4242")  # too short: Stripe refuses the token
    alert = page.locator("#card-errors")
    alert.wait_for(state="visible")
    assert alert.get_attribute("role") == "alert" and "Údaje o kartě nejsou úplné" in alert.inner_text()
    assert page.url.endswith("/karta") and _payment(app).state == "started"
    # Corrected, the same page pays.
    page.get_by_placeholder("number").fill("4242424242424242")
    page.get_by_role("button", name="Zaplatit 500").click()
    page.wait_for_url("**/zaplaceno")
    assert _payment(app).state == "paid"
    page.close()
