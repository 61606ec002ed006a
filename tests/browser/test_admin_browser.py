"""A municipal clerk in a real browser: logs in with TOTP, creates a service, sees a
demo payment a citizen made, filters by state, refunds it and downloads the CSV."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from werkzeug.serving import make_server

from app.db import db_session
from tests.admin.staff_helpers import PASSWORD, make_staff
from tests.conftest import make_test_app
from tests.factories import make_municipality


@pytest.fixture
def admin_live(db_url: str) -> Iterator[Any]:
    """The portal on a real threaded server on 127.0.0.1 with a free port, CSRF on."""
    app = make_test_app(db_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield app, url
        db_session.remove()
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


@pytest.mark.browser
def test_clerk_runs_a_fee_in_the_browser(browser, admin_live, tmp_path):  # type: ignore[no-untyped-def]
    app, url = admin_live
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek", demo_mode=True)
    clerk = make_staff("municipality_admin", m, email="urednice@hradek.cz")
    secret = clerk.totp_secret

    context = browser.new_context(locale="cs-CZ", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()

    # Log in: password, then the TOTP code.
    page.goto(f"{url}/admin/")
    page.get_by_label("E-mail").fill(clerk.email)
    page.get_by_label("Heslo").fill(PASSWORD)
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Šestimístný kód z aplikace").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Přihlásit se").click()
    page.wait_for_url(f"{url}/admin/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Přehled")

    # Create a service.
    nav = page.get_by_role("navigation", name="Administrace")
    nav.get_by_role("link", name="Služby").click()
    page.get_by_role("link", name="Nová služba").click()
    page.get_by_label("Název služby").fill("Poplatek za komunální odpad")
    page.get_by_label("Adresa služby v portálu (nepovinné)").fill("odpad")
    page.get_by_label("Pevná cena v Kč").fill("800")
    page.get_by_label("Variabilní symbol nebo jeho předčíslí").fill("1337")
    page.get_by_role("button", name="Uložit službu").click()
    page.wait_for_url(f"{url}/admin/sluzby")
    assert page.get_by_role("cell", name="Poplatek za komunální odpad", exact=True).is_visible()

    # A citizen pays it through the demo gateway (another browser context).
    citizen = browser.new_context(locale="cs-CZ").new_page()
    citizen.goto(f"{url}/obec/hradek/odpad")
    citizen.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    citizen.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    citizen.get_by_role("button", name="Pokračovat").click()
    citizen.get_by_label("Souhlasím s obchodními podmínkami").check()
    citizen.get_by_role("button", name="Zaplatit kartou").click()
    citizen.get_by_role("button", name="Zaplatit").first.click()
    citizen.wait_for_url("**/zaplaceno")
    citizen.context.close()

    # The clerk finds it among paid payments.
    nav.get_by_role("link", name="Platby").click()
    page.get_by_label("Stav").select_option("paid")
    page.get_by_role("button", name="Filtrovat").click()
    page.wait_for_url("**state=paid**")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "Jana Nováková" in rows.first.inner_text()
    page.get_by_label("Stav").select_option("failed")
    page.get_by_role("button", name="Filtrovat").click()
    page.wait_for_url("**state=failed**")
    assert page.get_by_text("Žádné platby.").is_visible()
    page.get_by_label("Stav").select_option("paid")
    page.get_by_role("button", name="Filtrovat").click()
    page.wait_for_url("**state=paid**")

    # Refund it.
    page.locator("tbody tr a").first.click()
    page.get_by_label("Částka k vrácení v Kč").fill("800")
    page.get_by_label("Důvod vrácení").fill("Zaplaceno dvakrát")
    page.get_by_role("button", name="Pokračovat k vrácení").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Opravdu vrátit?"
    page.get_by_role("button", name="Ano, vrátit").click()
    page.wait_for_selector("text=Vráceno 800")
    assert page.locator("#payment-state").inner_text() == "Vrácena"

    # Download the CSV of the list.
    nav.get_by_role("link", name="Platby").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Stáhnout CSV").click()
    path = tmp_path / "platby.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Identifikátor" and len(rows) == 2
    assert rows[1][4] == "Poplatek za komunální odpad" and rows[1][5] == "Vrácena" and rows[1][7] == "800,00"
    context.close()
