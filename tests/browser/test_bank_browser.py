"""A clerk in a real browser: uploads a camt.053 statement, finds the transfer with an
unknown symbol in the unmatched queue, matches it by hand to an obligation and sees the
payment's receipt (and downloads its PDF)."""

from __future__ import annotations

import re

import pyotp
import pytest

from app.banking.accounts import create_account
from app.db import db_session
from tests.admin.staff_helpers import PASSWORD, make_staff
from tests.banking.conftest import SAMPLES, add_obligation
from tests.browser.test_admin_browser import admin_live  # noqa: F401 (the fixture)
from tests.factories import make_municipality, make_service


@pytest.mark.browser
def test_clerk_uploads_a_statement_matches_a_line_by_hand_and_sees_the_receipt(browser, admin_live, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    app, url = admin_live
    m = make_municipality(name="Světlá pod Ještědem", slug="svetla", iban="CZ0520100000002801234578")
    service = make_service(m, name="Odpady 2026", slug="odpady", amount=None, amount_mode="payer",
                           variable_symbol="2026", lookup_mode="optional")  # fmt: skip
    create_account(m.id, "2801234578/2010", name="Běžný účet")
    db_session.commit()
    add_obligation(service, "2026000123", 150000, "C123", "Dvořák Jan")
    add_obligation(service, "2026500077", 100000, "C077", "Kůň Ondřej")
    clerk = make_staff("clerk", m, email="ucetni@svetla.cz")

    context = browser.new_context(locale="cs-CZ", accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/admin/")
    page.get_by_label("E-mail").fill(clerk.email)
    page.get_by_label("Heslo").fill(PASSWORD)
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Šestimístný kód z aplikace").fill(pyotp.TOTP(clerk.totp_secret).now())
    page.get_by_role("button", name="Přihlásit se").click()
    page.wait_for_url(f"{url}/admin/")

    page.get_by_role("navigation", name="Administrace").get_by_role("link", name="Bankovní převody").click()
    page.get_by_role("link", name="Nahrát výpis").click()
    page.get_by_label("Soubor s výpisem").set_input_files(str(SAMPLES / "fio_week_camt053.xml"))
    page.get_by_role("button", name="Nahrát a spárovat").click()
    page.wait_for_url("**/admin/banka/vypisy/*")
    assert "souhlasí s pohyby" in page.inner_text("main")
    assert "Předpis zaplacen přesně" in page.inner_text("main")  # Dvořák's transfer, matched by its VS

    page.get_by_role("navigation", name="Administrace").get_by_role("link", name="Bankovní převody").click()
    page.get_by_role("link", name=re.compile(r"^Nespárované pohyby")).click()
    page.get_by_label("VS, jméno, zpráva, protiúčet nebo částka").fill("Kůň")
    page.get_by_role("button", name="Hledat").click()
    row = page.locator("table.bank-lines tbody tr", has_text="Kůň Ondřej")
    assert row.count() == 1, page.inner_text("main")
    row.get_by_role("link").click()
    page.get_by_label("Variabilní symbol předpisu nebo platby").fill("2026500077")
    page.get_by_role("button", name="Spárovat", exact=True).click()
    page.wait_for_selector("#line-payments")
    assert "Spárováno ručně" in page.inner_text("#line-rule")

    page.locator("#line-payments a").first.click()
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt")
    assert re.match(r"20[0-9]{2}/000002 ", receipt)  # Dvořák's transfer took number 1
    with page.expect_download() as info:
        page.locator("#receipt a").click()
    path = tmp_path / "potvrzeni.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    context.close()
