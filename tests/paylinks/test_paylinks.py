"""Pay links: the pay page prefilled; tampered, expired and withdrawn links give a clear
page; the CSV for a payer list; links made by the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.db import db_session, utcnow
from app.models import Obligation
from app.paylinks.links import make_token
from tests.admin.staff_helpers import login, make_staff
from tests.api.helpers import make_tenant


def _obligation(service, **kw) -> Obligation:  # type: ignore[no-untyped-def]
    o = Obligation(
        municipality_id=service.municipality_id,
        service_id=service.id,
        customer_id=kw.pop("customer_id", "P-1"),
        payer_name=kw.pop("payer_name", "Jana Nováková"),
        amount=kw.pop("amount", 12345),
        variable_symbol=kw.pop("variable_symbol", "777001"),
        **kw,
    )
    db_session.add(o)
    db_session.commit()
    return o


def test_a_link_opens_the_pay_page_prefilled(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant(lookup_mode="optional", amount_mode="payer", amount=None, amount_min=100, amount_max=10_000_00)
    o = _obligation(t.service)
    token = make_token(t.service, obligation=o, payer_name="Jana Nováková", payer_email="jana@example.cz")
    r = client.get(f"/zaplatit/{token}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "123,45" in page and "jana@example.cz" in page and "Jana Nováková" in page
    assert 'name="obligation_token"' in page  # the obligation (and so its variable symbol) rides along


def test_tampered_expired_and_withdrawn_links(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant(lookup_mode="optional")
    o = _obligation(t.service)
    token = make_token(t.service, obligation=o)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    r = client.get(f"/zaplatit/{tampered}")
    assert r.status_code == 404 and "Neplatný platební odkaz" in r.get_data(as_text=True)
    old = make_token(t.service, obligation=o, expires_at=utcnow() - timedelta(minutes=1))
    r = client.get(f"/zaplatit/{old}")
    assert r.status_code == 410 and "Platnost odkazu vypršela" in r.get_data(as_text=True)
    o.cancelled_at = utcnow()
    db_session.commit()
    assert client.get(f"/zaplatit/{token}").status_code == 410


def test_csv_of_links_for_a_payer_list(app) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant(lookup_mode="optional")
    for i in range(3):
        _obligation(t.service, customer_id=f"C-{i}", variable_symbol=f"{5000 + i}")
    clerk = make_staff("clerk", t.municipality)
    staff = app.test_client()
    login(staff, clerk)
    r = staff.get(f"/admin/sluzby/{t.service.id}/platebni-odkazy.csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert [row["customer_id"] for row in rows] == ["C-0", "C-1", "C-2"]
    client = app.test_client()
    for row in rows:
        assert client.get(row["pay_link"].replace(app.config["BASE_URL"], "")).status_code == 200


def test_the_api_makes_links(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant(lookup_mode="optional")
    o = _obligation(t.service)
    r = client.post(
        "/api/v1/paylinks",
        headers=t.headers,
        json={"service_id": t.service.id, "obligation_id": o.id, "expires_in_days": 30},
    )
    assert r.status_code == 201 and r.json["url"].startswith(app.config["BASE_URL"] + "/zaplatit/")
    assert client.get(r.json["url"].replace(app.config["BASE_URL"], "")).status_code == 200
