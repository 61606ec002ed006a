"""In Chromium on a phone-sized screen: the QR code on the review page scans back to the
payment's SPAYD string, consent is required, the demo payment is paid and the receipt
PDF downloads from the success page."""

from __future__ import annotations

import io
import threading

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.serving import make_server

from app.db import db_session
from app.models import Payment
from app.qr import transfer_for_payment
from app.receipts.issuing import receipt_for_payment
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_service

pytestmark = pytest.mark.browser



@pytest.fixture
def live_app(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield app
        db_session.remove()
    server.shutdown()
    thread.join(10)
    app.extensions["db_engine"].dispose()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="cs-CZ", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_citizen_consents_pays_and_downloads_the_receipt(live_app, phone):
    base = live_app.config["BASE_URL"]
    m = make_municipality(name="Hrádek nad Nisou", iban="CZ6508000000192000145399")
    s = make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000)
    page = phone
    page.goto(f"{base}/obec/{m.slug}/{s.slug}")
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url("**/platba/*")

    ext = page.url.rstrip("/").split("/")[-1]
    payment = db_session.scalar(select(Payment).where(Payment.external_id == ext))
    expected = transfer_for_payment(payment).spayd
    qr = page.get_by_role("img", name="QR Platba", exact=False)
    shot = Image.open(io.BytesIO(qr.screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [expected]
    assert page.get_by_text("19-2000145399/0800").is_visible()

    # Without the box ticked the server refuses, and says why.
    page.get_by_role("button", name="Zaplatit kartou").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible() and "souhlasit s obchodními podmínkami" in summary.inner_text()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit kartou").click()
    page.wait_for_url("**/demo-gateway/**")
    page.get_by_role("button", name="Zaplatit", exact=True).click()
    page.wait_for_url("**/zaplaceno")
    assert page.get_by_role("heading", name="Zaplaceno, děkujeme").is_visible()

    db_session.expire_all()
    receipt = receipt_for_payment(db_session.scalar(select(Payment).where(Payment.external_id == ext)))
    with page.expect_download() as info:
        page.get_by_role("link", name="Stáhnout potvrzení (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"potvrzeni-{receipt.full_number.replace('/', '-')}.pdf"
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert receipt.full_number in text and "Hrádek nad Nisou" in text and "Jana Nováková" in text
