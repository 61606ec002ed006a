"""Staff pages in English (issue 14): every clerk and operator page speaks English when
English is chosen (no Czech words left but the data and the "Česky" switch), and the
language switch keeps the page's query (search, filters)."""

from __future__ import annotations

import html
import re

import pytest

from app.db import db_session
from app.models import ImportStatus, ObligationImport
from tests.admin.staff_helpers import login, make_paid_demo_payment, make_staff
from tests.factories import make_municipality, make_service

CZECH = re.compile(r"\w*[áčďéěíňóřšťúůýž]\w*", re.I)
# "IČO" is the name of the Czech company number, kept in English too.
ALLOWED = {"Kč", "Česky", "IČO"}


def visible_czech(page: str) -> list[str]:
    body = page[page.index("<body") :]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    labels = html.unescape(" ".join(re.findall(r'(?:aria-label|title|placeholder)="([^"]*)"', body)))
    return sorted({w for w in CZECH.findall(text + " " + labels) if w not in ALLOWED})


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    m = make_municipality(name="Testville", slug="testville")
    s = make_service(m, name="Waste fee", slug="waste")
    p = make_paid_demo_payment(s, amount=50000, payer_name="Jane Doe", payer_email="jane@example.org")
    record = ObligationImport(
        service_id=s.id,
        filename="payers.csv",
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
    return {"m": m, "s": s, "p": p, "import": record}


def _en(app, user):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, user)
    assert c.get("/admin/?lang=en").status_code == 200
    return c


def test_clerk_pages_in_english(app, world) -> None:  # type: ignore[no-untyped-def]
    c = _en(app, make_staff("municipality_admin", world["m"], name="Ann Admin"))
    s, p = world["s"], world["p"]
    left = {}
    for url in [
        "/admin/",
        "/admin/platby",
        f"/admin/platby/{p.external_id}",
        "/admin/sluzby",
        f"/admin/sluzby/{s.id}/predpisy",
        f"/admin/predpisy/importy/{world['import'].id}",
        "/admin/tym",
        "/admin/banka",
        "/admin/brany",
        f"/admin/obec/{world['m'].id}/nastaveni",
    ]:
        r = c.get(url)
        assert r.status_code == 200, url
        left[url] = visible_czech(r.text)
    assert not any(left.values()), {k: v for k, v in left.items() if v}


def test_operator_pages_in_english(app, world) -> None:  # type: ignore[no-untyped-def]
    c = _en(app, make_staff("operator", name="Otto Operator"))
    left = {}
    for url in [
        "/admin/",
        "/admin/audit",
        "/admin/operator/",
        "/admin/operator/zpravy/mesicni?obdobi=2025-06",
        "/admin/operator/zpravy/rocni?rok=2025",
        "/admin/operator/banka",
        "/admin/operator/obce/nova",
        f"/admin/operator/obce/{world['m'].id}",
    ]:
        r = c.get(url)
        assert r.status_code == 200, url
        left[url] = visible_czech(r.text)
    assert not any(left.values()), {k: v for k, v in left.items() if v}


def test_language_switch_keeps_search_and_filters(app, world) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("clerk", world["m"]))
    page = c.get("/admin/platby?state=paid&payer=Doe&sort=amount").text
    link = html.unescape(re.search(r'<a href="([^"]*)" lang="en"', page).group(1))
    assert link == "?state=paid&payer=Doe&sort=amount&lang=en"
    english = c.get("/admin/platby" + link).text
    back = html.unescape(re.search(r'<a href="([^"]*)" lang="cs"', english).group(1))
    assert back == "?state=paid&payer=Doe&sort=amount&lang=cs"
