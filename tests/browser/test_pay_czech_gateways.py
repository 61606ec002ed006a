"""A citizen pays through each of the municipality's own gateways in a real browser: the
fake GoPay, GP webpay and BTCPay hosted pages, back to the success page and the receipt."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import Payment
from tests.browser.test_pay_demo import check_page
from tests.factories import make_municipality, make_service
from tests.fakes.btcpay import FakeBTCPay
from tests.fakes.gopay import FakeGoPay
from tests.fakes.gpwebpay import FakeGPWebpay
from tests.gateway_accounts.conftest import BTCPAY_SECRET, add_account, btcpay_settings

pytestmark = pytest.mark.browser

CHOICES = {"gopay": "Kartou (GoPay)", "gpwebpay": "Kartou (GP webpay)", "btcpay": "Bitcoinem"}
PAY_BUTTON = {"gopay": "Zaplatit", "gpwebpay": "Zaplatit", "btcpay": "Pay"}


@pytest.fixture
def fakes() -> Iterator[dict[str, object]]:
    gopay, gpwebpay, btcpay = FakeGoPay().start(), FakeGPWebpay().start(), FakeBTCPay(auto_settle=True).start()
    yield {"gopay": gopay, "gpwebpay": gpwebpay, "btcpay": btcpay}
    gopay.stop()
    gpwebpay.stop()
    btcpay.stop()


@pytest.mark.parametrize("gateway_name", ["gopay", "gpwebpay", "btcpay"])
def test_citizen_pays_through_the_municipalitys_gateway(live_server, phone, fakes, gateway_name) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    with live.app.app_context():
        m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou", demo_mode=False)
        make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000, allowed_gateways=[])
        add_account(m, "gopay", fakes["gopay"].settings())
        gp = fakes["gpwebpay"]
        add_account(m, "gpwebpay", gp.settings(GPWEBPAY_WS_URL=gp.url + "/pay-ws/v1/PaymentService"))
        btc = add_account(m, "btcpay", btcpay_settings(fakes["btcpay"]))
        fakes["btcpay"].add_webhook(f"{live.url}/webhooks/btcpay/{btc.public_id}", BTCPAY_SECRET)
        db_session.remove()
    page = phone
    page.goto(f"{live.url}/obec/hradek-nad-nisou/odpad")
    page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
    page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana@example.cz")
    page.get_by_role("button", name="Pokračovat").click()
    page.wait_for_url(re.compile(r"/platba/[a-z0-9]{26}$"))
    external_id = page.url.rsplit("/", 1)[1]
    for label in CHOICES.values():
        assert page.get_by_label(label).count() == 1
    assert "po dobu její platnosti se nemění" in page.inner_text("main")
    check_page(page, "review with the municipality's gateways")
    page.get_by_label(CHOICES[gateway_name]).check()
    page.get_by_label("Souhlasím s obchodními podmínkami").check()
    page.get_by_role("button", name="Zaplatit", exact=True).click()

    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/(gw/v3|pgw|i)/"))
    assert not page.url.startswith(live.url)
    page.get_by_role("button", name=PAY_BUTTON[gateway_name], exact=True).click()

    page.wait_for_url(f"**/platba/{external_id}/zaplaceno")
    assert "Zaplaceno" in page.inner_text("h1")
    main = page.inner_text("main")
    assert "Potvrzení o zaplacení č." in main
    if gateway_name == "btcpay":
        assert re.search(r"0,000347\d* BTC \(kurz 2\s300\s000\sKč za 1 BTC\)", main), main
    check_page(page, "success")
    with live.app.app_context():
        payment = db_session.scalar(select(Payment).where(Payment.external_id == external_id))
        assert (payment.state, payment.gateway_name) == ("paid", gateway_name)
        assert payment.gateway_account_id is not None
        db_session.remove()
