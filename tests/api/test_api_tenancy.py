"""Every /api/v1 route, walked from the URL map with another municipality's key: its
objects answer 404 (like missing ones) and its lists never show them. A new route
without a row here fails."""

from __future__ import annotations

from flask import url_for

from app.db import db_session
from app.models import Obligation
from tests.admin.staff_helpers import make_paid_demo_payment
from tests.api.helpers import import_transfers, make_tenant, transfer

# endpoint → kind of object in the URL (None: a list or the description)
API_ROUTES: dict[str, str | None] = {
    "api.openapi": None,
    "api.docs": None,
    "api.services": None,
    "api.service": "service",
    "api.obligation_create": None,
    "api.obligations_bulk": None,
    "api.obligations": None,
    "api.obligation": "obligation",
    "api.obligation_cancel": "obligation",
    "api.payments": None,
    "api.payment": "payment",
    "api.payment_refund": "payment",
    "api.figures": "month",
    "api.paylink_create": None,
    "api.bank_transfers": None,
}


def _world():  # type: ignore[no-untyped-def]
    a, b = make_tenant(), make_tenant()
    payment = make_paid_demo_payment(a.service)
    obligation = Obligation(
        municipality_id=a.municipality.id,
        service_id=a.service.id,
        customer_id="A-1",
        payer_name="Plátce A",
        amount=10000,
    )
    db_session.add(obligation)
    db_session.commit()
    # A's account receives a transfer for A's obligation and one nobody expects.
    obligation.variable_symbol = "2026000001"
    db_session.commit()
    import_transfers(a, [transfer("2026000001", 10000, bank_id="T1"), transfer("55", 700, bank_id="T2")])
    objects = {
        "service": {"service_id": a.service.id},
        "obligation": {"obligation_id": obligation.id},
        "payment": {"external_id": payment.external_id},
        "month": {"year": 2026, "month": 1},
    }
    return a, b, objects, payment, obligation


def _rules(app):  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]


def test_the_table_names_every_api_route(app) -> None:  # type: ignore[no-untyped-def]
    assert {r.endpoint for r in _rules(app)} == set(API_ROUTES)


def test_another_municipalitys_key_gets_404_and_changes_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    a, b, objects, payment, obligation = _world()
    checked = 0
    for rule in _rules(app):
        kind = API_ROUTES[rule.endpoint]
        if kind in (None, "month"):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **objects[kind])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method, headers=b.headers, json={"amount": 1, "reason": "x"})
            assert r.status_code == 404, (method, url, r.status_code, r.json)
            assert r.json["error"]["code"] in ("not_found", "unknown_service")
            checked += 1
    assert checked == 5
    db_session.expire_all()
    assert db_session.get(Obligation, obligation.id).cancelled_at is None
    assert payment.amount_refunded == 0


def test_lists_and_writes_stay_within_the_key_s_municipality(app, client) -> None:  # type: ignore[no-untyped-def]
    a, b, objects, payment, obligation = _world()
    h = b.headers
    assert [s["id"] for s in client.get("/api/v1/services", headers=h).json["items"]] == [b.service.id]
    assert client.get("/api/v1/payments", headers=h).json["items"] == []
    assert client.get(f"/api/v1/payments?service_id={a.service.id}", headers=h).json["items"] == []
    assert client.get("/api/v1/obligations", headers=h).json["items"] == []
    assert client.get("/api/v1/obligations?customer_id=A-1", headers=h).json["items"] == []
    assert client.get("/api/v1/figures/2026/1", headers=h).json["lines"] == []
    assert client.get("/api/v1/bank-transfers", headers=h).json["items"] == []
    assert client.get("/api/v1/bank-transfers?variable_symbol=55", headers=h).json["items"] == []
    assert len(client.get("/api/v1/bank-transfers", headers=a.headers).json["items"]) == 2
    for path, body in (
        ("/api/v1/obligations", {"service_id": a.service.id, "customer_id": "X", "payer_name": "X", "amount": 1}),
        (
            "/api/v1/obligations/bulk",
            {"service_id": a.service.id, "rows": [{"customer_id": "X", "payer_name": "X", "amount": 1}]},
        ),
        ("/api/v1/paylinks", {"service_id": a.service.id}),
    ):
        r = client.post(path, headers=h, json=body)
        assert r.status_code == 404 and r.json["error"]["code"] == "unknown_service"
    assert db_session.query(Obligation).count() == 1
    r = client.post("/api/v1/paylinks", headers=h, json={"service_id": b.service.id, "obligation_id": obligation.id})
    assert r.status_code == 404
