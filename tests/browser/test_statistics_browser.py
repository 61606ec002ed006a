"""The public statistics in Chromium on a phone (390 px): reached from the footer, the
country's and a region's page in both languages with zero axe violations of any impact,
no sideways scroll of the page (wide tables scroll in their own focusable region), the
year selector works and the open data links answer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import OnboardingState, PaymentState, ServiceStateChange
from app.onboarding.pipeline import change_onboarding_state
from app.reporting.summary import rebuild_payment_summary
from tests.browser.helpers import a11y_smoke, horizontal_overflow, run_axe
from tests.factories import make_municipality, make_payment, make_region, make_service

pytestmark = pytest.mark.browser


def _seed() -> None:
    for slug, gateways in (("liberecky-kraj", ("stripe", "bank_transfer")), ("jihocesky-kraj", ("btcpay", "gopay"))):
        m = make_municipality(onboarding_state=OnboardingState.NOT_CONTACTED, region_id=make_region(slug).id)
        change_onboarding_state(m, OnboardingState.ACTIVE, date(2025, 1, 2))
        s = make_service(m)
        for rec in db_session.scalars(select(ServiceStateChange).where(ServiceStateChange.service_id == s.id)):
            rec.effective_date = date(2025, 1, 2)
        for month in range(1, 13):
            for i, gateway in enumerate(gateways):
                make_payment(
                    s,
                    amount=10_000 * month + i * 1_234_567,
                    gateway_name=gateway,
                    state=PaymentState.PAID,
                    paid_at=datetime(2025, month, 10, 10, tzinfo=UTC),
                )
    db_session.commit()
    rebuild_payment_summary()


def test_statistics_pages_are_accessible_on_a_phone(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    with live.app.app_context():
        _seed()
    phone.goto(live.url + "/")
    phone.get_by_role("link", name="Statistiky a otevřená data").click()
    phone.wait_for_url("**/statistiky")
    phone.get_by_label("Rok", exact=True).select_option("2025")
    phone.get_by_role("button", name="Zobrazit").click()
    phone.wait_for_url("**/statistiky?rok=2025")
    assert "2025" in phone.locator("h2").first.inner_text()
    assert phone.get_by_role("img", name="Počet plateb po měsících roku 2025").count() == 1
    for path in (
        "/statistiky?rok=2025",
        "/kraj/jihocesky-kraj/statistiky?rok=2025",
        "/statistiky?rok=2025&lang=en",
        "/kraj/liberecky-kraj/statistiky?rok=2025&lang=en",
    ):
        phone.goto(live.url + path)
        assert horizontal_overflow(phone) <= 0, path
        assert a11y_smoke(phone) == [], path
        assert run_axe(phone, every_impact=True) == [], path
    phone.goto(live.url + "/statistiky?rok=2025&lang=cs")
    phone.get_by_role("link", name="Jihočeský kraj").click()
    phone.wait_for_url("**/kraj/jihocesky-kraj/statistiky?rok=2025")
    with phone.expect_response("**/kraj/jihocesky-kraj/statistiky/data.json?rok=2025") as info:
        phone.get_by_role("link", name="Rok 2025 – JSON").click()
    doc = info.value.json()
    assert doc["licence"]["nazev"] == "CC BY 4.0" and len(doc["zaznamy"]) == 12
