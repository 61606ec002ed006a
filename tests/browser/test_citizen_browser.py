"""Issue 14 in the browser: every citizen page has no axe-core violation of any impact at
390 px and 1280 px (home, municipality, pay form, lookup with a household, review, the
demo gateway's page, return, success, receipt, account, legal pages, unsubscribe); a
keyboard-only payment from the home page to the receipt; several fees in one payment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.db import db_session
from app.identity.session import AUTH_KEY, CITIZEN_KEY
from app.models import AmountMatch, Citizen, LookupMode, Obligation, Payment
from app.obligations.importing import import_obligations
from app.obligations.reminders import unsubscribe_token
from tests.browser.conftest import CHROMIUM, PHONE  # noqa: F401
from tests.browser.helpers import a11y_smoke, horizontal_overflow, run_axe
from tests.factories import make_municipality, make_service

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
HOUSEHOLD = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;Domácnost;E-mail\n"
    "1001;Jana Nováková;800;31. 12. 2099;D-1;jana@example.cz\n"
    "1002;Petr Novák;800;31. 12. 2099;D-1;\n"
)
DOG = "Zákaznické číslo;Jméno;Částka;Domácnost\nPES-1001;Jana Nováková;300;D-1\n"


def check(page: Any, name: str) -> None:
    assert horizontal_overflow(page) <= 0, f"{name}: sideways scroll"
    assert a11y_smoke(page) == [], name
    violations = run_axe(page, min_impact="minor")
    assert violations == [], f"{name}: {violations}"


def seed(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with app.app_context():
        m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou")
        make_municipality(name="Česká Lípa", slug="ceska-lipa")
        fixed = make_service(
            m,
            name="Poplatek za komunální odpad",
            slug="odpad",
            amount=80000,
            lookup_mode=LookupMode.OPTIONAL,
            amount_match=AmountMatch.EXACT,
        )
        dog = make_service(
            m,
            name="Poplatek ze psů",
            slug="psi",
            amount=30000,
            lookup_mode=LookupMode.OPTIONAL,
            amount_match=AmountMatch.EXACT,
        )
        make_service(m, name="Užívání veřejného prostranství", slug="prostranstvi")
        assert import_obligations(fixed, HOUSEHOLD.encode(), "odpad.csv").imported
        assert import_obligations(dog, DOG.encode(), "psi.csv").imported
        # A region's own colour and footer on every page (its contrast was checked when saved).
        m.region.primary_color, m.region.contact_email = "#7a2e0e", "portal@kraj.example"
        citizen = Citizen(provider="bankid", subject="jana-1", name="Jana Nováková", email="jana@example.cz")
        db_session.add(citizen)
        db_session.commit()
        out = {"m": m.slug, "m_id": m.id, "citizen": citizen.id}
        db_session.remove()
        return out


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    phone = viewport["width"] < 500
    ctx = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="cs-CZ")
    ctx.set_default_timeout(15_000)
    return ctx


def _log_in(ctx: Any, live: Any, citizen_id: int) -> None:
    """The citizen's session cookie, as after a Bank iD login."""
    app = live.app
    value = app.session_interface.get_signing_serializer(app).dumps(
        {CITIZEN_KEY: citizen_id, AUTH_KEY: {"provider": "bankid", "id_token": None}}
    )
    ctx.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live.url}])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_every_citizen_page_passes_axe_with_no_violation_of_any_impact(live_server, browser, viewport) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    data = seed(live.app)
    ctx = _context(browser, viewport)
    page = ctx.new_page()
    base = live.url
    page.goto(base + "/")
    check(page, "home")
    page.goto(base + "/?q=ceska+lipa")
    assert page.get_by_role("link", name="Česká Lípa").count() == 1
    check(page, "home search")
    page.goto(base + "/kraj/liberecky-kraj")
    assert page.get_by_role("link", name="Česká Lípa").count() == 1
    check(page, "region home")
    page.goto(f"{base}/obec/{data['m']}")
    check(page, "municipality")
    page.goto(f"{base}/obec/{data['m']}/prostranstvi")
    check(page, "pay form")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_selector("#error-summary")
    check(page, "pay form with errors")
    # The lookup: the household's three fees.
    page.goto(f"{base}/obec/{data['m']}/odpad")
    check(page, "pay form with lookup")
    page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("1001")
    page.get_by_role("button", name="Vyhledat").click()
    page.wait_for_selector("input[name=item]")
    check(page, "lookup result with household")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_selector("#error-summary")
    check(page, "household form with errors")
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    check(page, "review")
    page.get_by_role("button", name=re.compile("Zaplatit")).click()
    page.wait_for_selector("#error-summary")
    check(page, "review with errors")
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name=re.compile("Zaplatit")).click()
    page.wait_for_url("**/demo-gateway/**")
    check(page, "demo gateway")
    page.get_by_role("button", name="Zaplatit", exact=True).click()
    page.wait_for_url("**/zaplaceno")
    check(page, "success")
    page.get_by_role("link", name=re.compile("ověření potvrzení")).click()
    page.wait_for_url("**/potvrzeni/**")
    check(page, "receipt")
    # A paid obligation's page.
    page.goto(f"{base}/obec/{data['m']}/odpad")
    page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("1002")
    page.get_by_role("button", name="Vyhledat").click()
    page.wait_for_selector(".panel-success")
    check(page, "paid obligation")
    # A declined payment's return page.
    page.goto(f"{base}/obec/{data['m']}/prostranstvi")
    page.get_by_label("Jméno a příjmení plátce").fill("Jan Novák")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jan@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name=re.compile("Zaplatit")).click()
    page.wait_for_url("**/demo-gateway/**")
    page.get_by_role("button", name="Zamítnout platbu").click()
    page.wait_for_url("**/stav")
    check(page, "return (declined)")
    for path in ("/obchodni-podminky", "/ochrana-osobnich-udaju", "/prohlaseni-o-pristupnosti", "/obec/neexistuje"):
        page.goto(base + path)
        check(page, path)
    with live.app.app_context():
        link = "/pripominky/odhlasit/" + unsubscribe_token(data["m_id"], "jana@example.cz")
    page.goto(base + link)
    check(page, "unsubscribe")
    page.get_by_role("button", name="Odhlásit připomínky").click()
    page.get_by_role("heading", name="Připomínky jsou odhlášené").wait_for()
    check(page, "unsubscribed")
    _log_in(ctx, live, data["citizen"])
    page.goto(base + "/ucet/")
    assert "Jana Nováková" in page.inner_text("main")
    check(page, "account")
    page.goto(base + "/?lang=en")
    check(page, "home in English")
    ctx.close()


def _tab_to(page: Any, matches: Callable[[dict[str, str]], bool], limit: int = 80) -> dict[str, str]:
    """Press Tab until the focused element matches; fail when it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement;
                       const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
                       return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || '').trim(),
                               label: label.trim(), type: e.type || '', name: e.name || ''}; }"""
        )
        if matches(focused):
            return focused
    raise AssertionError("never reached by Tab")


def test_keyboard_only_pays_a_fee_from_the_home_page_to_the_receipt(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    data = seed(live.app)
    ctx = _context(browser, DESKTOP)
    page = ctx.new_page()
    page.goto(live.url + "/")
    # The skip link comes first.
    first = _tab_to(page, lambda f: True, limit=1)
    assert first["text"] == "Přeskočit na obsah"
    _tab_to(page, lambda f: f["label"] == "Najděte svou obec")
    page.keyboard.type("hradek")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=hradek"))
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Hrádek nad Nisou")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/obec/{data['m']}")
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Užívání veřejného prostranství")
    page.keyboard.press("Enter")
    page.wait_for_url("**/prostranstvi")
    _tab_to(page, lambda f: f["label"] == "Jméno a příjmení plátce")
    page.keyboard.type("Jana Nováková")
    page.keyboard.press("Tab")
    page.keyboard.type("jana@example.cz")
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Pokračovat")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    _tab_to(page, lambda f: f["type"] == "checkbox" and f["name"] == "consent")
    page.keyboard.press("Space")
    _tab_to(page, lambda f: f["tag"] == "button" and "Zaplatit" in f["text"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/demo-gateway/**")
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Zaplatit")
    page.keyboard.press("Enter")
    page.wait_for_url("**/zaplaceno")
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "ověření potvrzení")
    page.keyboard.press("Enter")
    page.wait_for_url("**/potvrzeni/**")
    assert "je platné" in page.inner_text("h1")
    with live.app.app_context():
        assert db_session.scalar(select(Payment.state)) == "paid"
        db_session.remove()
    ctx.close()


def test_several_fees_in_one_payment_on_a_phone(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    data = seed(live.app)
    page = phone
    page.goto(f"{live.url}/obec/{data['m']}/psi")
    page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("pes-1001")
    page.get_by_role("button", name="Vyhledat").click()
    boxes = page.locator("input[name=item]")
    assert boxes.count() == 3
    # Untick Petr's waste fee: the dog and Jana's waste fee are paid.
    page.get_by_label(re.compile(r"P\*\*\* N\*\*\*")).uncheck()
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    assert "1\u00a0100\u00a0Kč" in page.inner_text("main")
    assert page.get_by_role("table").count() == 1
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name=re.compile("Zaplatit")).click()
    page.wait_for_url("**/demo-gateway/**")
    page.get_by_role("button", name="Zaplatit", exact=True).click()
    page.wait_for_url("**/zaplaceno")
    table = page.get_by_role("table").inner_text()
    assert "Poplatek ze psů" in table and "Poplatek za komunální odpad" in table
    with live.app.app_context():
        paid = {o.customer_id: o.amount_paid for o in db_session.scalars(select(Obligation))}
        assert paid == {"PES-1001": 30000, "1001": 80000, "1002": 0}
        db_session.remove()


def test_polish_spacing_tap_targets_favicon_on_a_phone(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    data = seed(live.app)
    page = phone
    page.goto(f"{live.url}/obec/{data['m']}/prostranstvi")
    gap = page.evaluate("""() => document.querySelector('.breadcrumbs').getBoundingClientRect().top
                                 - document.querySelector('.site-header').getBoundingClientRect().bottom""")
    assert gap >= 16, "the page's first line touches the header"
    page.get_by_label("Jméno a příjmení plátce").fill("Jan Novák")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jan@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    # Copy buttons (shown by copy.js) are 44 × 44 px at least.
    sizes = page.evaluate("""() => [...document.querySelectorAll('button.copy')].filter(b => !b.hidden)
                                 .map(b => [b.getBoundingClientRect().width, b.getBoundingClientRect().height])""")
    assert sizes and all(w >= 44 and h >= 44 for w, h in sizes), sizes
    # The last thing on the page keeps its distance from the footer.
    gap = page.evaluate("""() => document.querySelector('.site-footer').getBoundingClientRect().top
                                 - document.querySelector('main').lastElementChild.getBoundingClientRect().bottom""")
    assert gap >= 24, "the last element touches the footer"
    # A favicon, linked and answering.
    href = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert page.request.get(href).status == 200
    assert page.request.get(live.url + "/favicon.ico").status == 200
