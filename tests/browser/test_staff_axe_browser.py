"""Every clerk and operator page passes axe-core with no violation of any impact, on a
phone (390 px) and a desktop (1280 px), after a real TOTP login (issue 14). Tables that
are wider than a phone scroll inside their own labelled region, not the page."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest

from app.db import db_session
from app.models import ImportStatus, Obligation, ObligationImport, PaymentItem, StaffUser
from app.timeutil import prague_today
from tests.admin.staff_helpers import PASSWORD, make_paid_demo_payment, make_staff
from tests.browser.helpers import horizontal_overflow, run_axe
from tests.browser.test_admin_browser import admin_live  # noqa: F401 (fixture)
from tests.factories import make_municipality, make_service

WIDTHS = (390, 1280)


def _login(page: Any, url: str, user: Any) -> None:
    # A code is accepted once per step; the same user logs in again for the next width.
    db_session.expire_all()
    fresh = db_session.get(StaffUser, user.id)
    fresh.totp_last_step = None
    db_session.commit()
    page.goto(f"{url}/admin/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Heslo").fill(PASSWORD)
    page.get_by_role("button", name="Pokračovat").click()
    page.get_by_label("Šestimístný kód z aplikace").fill(pyotp.TOTP(user.totp_secret).now())
    page.get_by_role("button", name="Přihlásit se").click()
    page.wait_for_url(f"{url}/admin/")


def _check_pages(browser: Any, url: str, user: Any, paths: list[str], extra=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    problems: dict[str, Any] = {}
    for width in WIDTHS:
        context = browser.new_context(locale="cs-CZ", viewport={"width": width, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        _login(page, url, user)
        for path in paths:
            page.goto(f"{url}{path}")
            found = run_axe(page, every_impact=True)
            if found:
                problems[f"{width} {path}"] = found
            if overflow := horizontal_overflow(page):
                problems[f"{width} {path} overflow"] = overflow
        if extra:
            for name, found in extra(page, url).items():
                if found:
                    problems[f"{width} {name}"] = found
        context.close()
    return problems


@pytest.mark.browser
def test_staff_pages_have_no_axe_violations(browser, admin_live):  # type: ignore[no-untyped-def]  # noqa: F811
    app, url = admin_live
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek", demo_mode=True)
    s = make_service(m, name="Poplatek za komunální odpad", slug="odpad")
    p = make_paid_demo_payment(s, amount=80000, payer_name="Jana Nováková", payer_email="jana@example.cz")
    ob = Obligation(municipality_id=m.id, service_id=s.id, customer_id="0042", payer_name="Jana Nováková", amount=80000)
    db_session.add(ob)
    # A household's fees in one payment: the list names both services, the detail lists each fee.
    dog = make_service(m, name="Poplatek ze psa", slug="pes")
    ob_dog = Obligation(
        municipality_id=m.id, service_id=dog.id, customer_id="0042", payer_name="Jana Nováková", amount=30000
    )
    db_session.add(ob_dog)
    db_session.flush()
    several = make_paid_demo_payment(s, amount=110000, payer_name="Jana Nováková", payer_email="jana@example.cz")
    db_session.add_all(
        [
            PaymentItem(payment_id=several.id, obligation_id=ob.id, service_id=s.id, amount=80000, position=0),
            PaymentItem(payment_id=several.id, obligation_id=ob_dog.id, service_id=dog.id, amount=30000, position=1),
        ]
    )
    record = ObligationImport(
        service_id=s.id,
        filename="platci.csv",
        size=10,
        status=ImportStatus.REJECTED,
        report={
            "imported": False,
            "total_rows": 3,
            "error_count": 1,
            "inserted": 0,
            "updated": 0,
            "unchanged": 0,
            "file_errors": [],
            "errors": [{"line": 2, "column": "amount", "message": "Částka není číslo."}],
        },
    )
    db_session.add(record)
    db_session.commit()
    admin = make_staff("municipality_admin", m, email="spravce@hradek.cz", name="Marie Správcová")
    operator = make_staff("operator", email="operator@kraj.cz", name="Otakar Krajský")

    clerk_paths = [
        "/admin/",
        "/admin/platby",
        "/admin/platby?state=paid",
        f"/admin/platby/{p.external_id}",
        f"/admin/platby/{several.external_id}",
        "/admin/sluzby",
        "/admin/sluzby/nova",
        f"/admin/sluzby/{s.id}/upravit",
        f"/admin/sluzby/{s.id}/nahled",
        f"/admin/sluzby/{s.id}/predpisy",
        f"/admin/sluzby/{s.id}/predpisy/import",
        f"/admin/predpisy/importy/{record.id}",
        f"/admin/sluzby/{s.id}/predpisy/{ob.id}/vymaz",
        "/admin/tym",
        "/admin/tym/pozvat",
        "/admin/banka",
        "/admin/banka/nahrat",
        "/admin/banka/ucty",
        "/admin/banka/nesparovane",
        "/admin/banka/vratky",
        "/admin/brany",
        "/admin/brany/nova",
        f"/admin/obec/{m.id}/nastaveni",
    ]

    def refund_steps(page: Any, url: str) -> dict[str, Any]:
        page.goto(f"{url}/admin/platby/{p.external_id}")
        page.get_by_role("button", name="Pokračovat k vrácení").click()  # empty: the error summary
        errors = run_axe(page, every_impact=True)
        page.get_by_label("Částka k vrácení v Kč").fill("100")
        page.get_by_label("Důvod vrácení").fill("Přeplatek")
        page.get_by_role("button", name="Pokračovat k vrácení").click()
        page.get_by_role("heading", name="Opravdu vrátit?").wait_for()
        return {"refund errors": errors, "refund confirm": run_axe(page, every_impact=True)}

    problems = _check_pages(browser, url, admin, clerk_paths, refund_steps)
    operator_paths = [
        "/admin/",
        "/admin/audit",
        "/admin/platby",
        "/admin/operator/",
        "/admin/operator/?stav=interested",
        "/admin/operator/obce/nova",
        f"/admin/operator/obce/{m.id}",
        "/admin/operator/zpravy/mesicni",
        # This month: the demo payment fills the tables by channel and by merchant account.
        f"/admin/operator/zpravy/mesicni?obdobi={prague_today():%Y-%m}",
        "/admin/operator/zpravy/rocni",
        "/admin/operator/banka",
        "/admin/operator/kraj",
    ]

    def region_settings_errors(page: Any, url: str) -> dict[str, Any]:
        # A colour white text is unreadable on: the error summary and the field's error.
        page.goto(f"{url}/admin/operator/kraj")
        page.get_by_label("Barva kraje").fill("#ffcc00")
        page.get_by_role("button", name="Uložit").click()
        page.get_by_text("kontrast jen").first.wait_for()
        return {"region settings errors": run_axe(page, every_impact=True)}

    problems |= {f"operator {k}": v for k, v in _check_pages(browser, url, operator, operator_paths,
                                                            region_settings_errors).items()}
    national = make_staff("national", None, email="narodni@example.cz", name="Naďa Národní")
    problems |= {f"national {k}": v for k, v in _check_pages(browser, url, national, ["/admin/", "/admin/platby",
                                                                                    "/admin/operator/kraj"]).items()}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
