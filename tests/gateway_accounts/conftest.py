"""Fixtures for the gateway accounts: the app on a live server thread (the fakes notify it
over HTTP), a live municipality with one service, the fakes of GoPay, GP webpay, BTCPay."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.db import db_session
from app.gateway_accounts.accounts import AccountInput, save_account
from app.gateway_accounts.kinds import KINDS
from app.models import GatewayAccount, Municipality, Payment, Service
from tests.conftest import make_test_app, serve_app
from tests.factories import make_municipality, make_service
from tests.fakes.btcpay import ALL_STORE_PERMISSIONS, FakeBTCPay
from tests.fakes.gopay import FakeGoPay
from tests.fakes.gpwebpay import FakeGPWebpay

BTCPAY_SECRET = "webhook-secret-of-the-store"


def account_values(gateway_name: str, settings: dict[str, Any]) -> dict[str, str]:
    """An adapter's settings (GOPAY_GOID…) as the account form's fields (goid…)."""
    by_setting = {f.setting: f.name for f in KINDS[gateway_name].fields}
    return {by_setting[k]: str(v) for k, v in settings.items() if k in by_setting}


def add_account(m: Municipality, gateway_name: str, settings: dict[str, Any], **kw: Any) -> GatewayAccount:
    account, errors = save_account(
        AccountInput(
            gateway_name=gateway_name,
            label=kw.pop("label", f"{gateway_name} účet"),
            values=account_values(gateway_name, settings),
            **kw,
        ),
        m,
    )
    assert account is not None, errors
    db_session.commit()  # save_account flushes; the request (here the test) commits
    return account


def reload(payment_id: int) -> Payment:
    """Our own view of a row another thread (the live server) may have changed."""
    db_session.rollback()
    db_session.expire_all()
    return db_session.get(Payment, payment_id)


@pytest.fixture
def live(db_url: str) -> Iterator[Any]:
    app = make_test_app(db_url, ENABLED_GATEWAYS=["demo"])
    with app.app_context(), serve_app(app) as base:
        app.extensions["live_base"] = base
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def town() -> tuple[Municipality, Service]:
    m = make_municipality(demo_mode=False)
    return m, make_service(m, allowed_gateways=[], amount=50000)


@pytest.fixture
def gopay_fake() -> Iterator[FakeGoPay]:
    fake = FakeGoPay().start()
    yield fake
    fake.stop()


@pytest.fixture
def gpwebpay_fake() -> Iterator[FakeGPWebpay]:
    fake = FakeGPWebpay().start()
    yield fake
    fake.stop()


@pytest.fixture
def btcpay_fake() -> Iterator[FakeBTCPay]:
    with FakeBTCPay() as fake:
        yield fake


def btcpay_settings(fake: FakeBTCPay) -> dict[str, Any]:
    store = fake.add_store()
    return {
        "BTCPAY_URL": fake.url,
        "BTCPAY_STORE_ID": store,
        "BTCPAY_API_KEY": fake.add_key([f"{p}:{store}" for p in ALL_STORE_PERMISSIONS]),
        "BTCPAY_WEBHOOK_SECRET": BTCPAY_SECRET,
        "BTCPAY_INVOICE_MINUTES": "30",
    }


def start_as_citizen(client: Any, service: Service, gateway_name: str) -> Payment:
    """Pay form → review → "Zaplatit" with ``gateway_name``; returns the started payment."""
    m = db_session.get(Municipality, service.municipality_id)
    page = client.get(f"/obec/{m.slug}/{service.slug}")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/obec/{m.slug}/{service.slug}",
        data={"name": "Jana Nováková", "email": "jana@example.cz", "form_token": token},
    )
    assert r.status_code == 303, r.text[:500]
    external_id = r.headers["Location"].rstrip("/").split("/")[-1]
    review = client.get(f"/platba/{external_id}")
    assert f'value="{gateway_name}"' in review.text or review.status_code == 200
    r = client.post(f"/platba/{external_id}", data={"gateway": gateway_name, "consent": "yes"})
    assert r.status_code == 303, (r.status_code, r.text[:800])
    db_session.rollback()
    payment = db_session.scalar(select(Payment).where(Payment.external_id == external_id))
    payment = reload(payment.id)
    assert payment.state == "started" and r.headers["Location"] == payment.gateway_redirect_url
    return payment


def path_of(url: str, base: str) -> str:
    return url.replace(base, "", 1)
