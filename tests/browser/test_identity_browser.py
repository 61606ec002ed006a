"""In Chromium: log in through the loopback OpenID provider (Bank iD), pay a fee with the
demo gateway, and find the payment in the account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import make_municipality, make_service
from tests.identity.environment import Env, running_identity_env

pytestmark = pytest.mark.browser

@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    with running_identity_env(db_url, tmp_path, saml=False) as env:
        yield env


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="cs-CZ")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_citizen_logs_in_with_bank_id_pays_and_sees_the_payment(env: Env, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou")
    make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000)

    page.goto(env.url + "/")
    page.get_by_role("link", name="Přihlásit se").click()
    expect(page.get_by_role("heading", name="Přihlášení občana")).to_be_visible()
    page.get_by_role("button", name="Přihlásit se přes Bankovní identita").click()
    # Through the provider (PKCE, PS512 id_token) and back to the account.
    page.wait_for_url(env.url + "/ucet/")
    expect(page.get_by_role("heading", name="Můj účet", exact=True)).to_be_visible()
    expect(page.get_by_text("Jste přihlášeni jako Jana Nováková.")).to_be_visible()
    expect(page.get_by_text("Zatím jste přihlášeni nic nezaplatili.")).to_be_visible()

    page.goto(env.url + "/obec/hradek-nad-nisou/odpad")
    expect(page.get_by_label("Jméno a příjmení plátce")).to_have_value("Jana Nováková")
    expect(page.get_by_label("E-mail pro potvrzení o zaplacení")).to_have_value("jana.novakova@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit kartou").click()
    expect(page.get_by_role("heading", name="Demo platební brána")).to_be_visible()
    page.get_by_role("button", name="Zaplatit", exact=True).click()
    # The return page asks the gateway and shows the paid state.
    page.wait_for_url(re.compile(r".*/platba/[^/]+/zaplaceno$"))
    external_id = page.url.split("/platba/")[1].split("/")[0]

    page.get_by_role("link", name="Platbu najdete ve svém účtu").click()
    row = page.locator(f'tr[data-payment="{external_id}"]')
    expect(row).to_contain_text("Hrádek nad Nisou")
    expect(row).to_contain_text("Poplatek za komunální odpad")
    expect(row).to_contain_text("800")
    expect(row).to_contain_text("zaplaceno")

    # Logging out goes through the provider and ends the citizen's session.
    page.get_by_role("button", name="Odhlásit se").click()
    page.wait_for_url(re.compile(r".*/odhlaseni/hotovo.*"))
    expect(page.get_by_role("heading", name="Byli jste odhlášeni")).to_be_visible()
    assert env.op.logouts and env.op.logouts[0]["id_token_hint"]
    page.goto(env.url + "/ucet/")
    expect(page.get_by_role("heading", name="Přihlášení občana")).to_be_visible()
