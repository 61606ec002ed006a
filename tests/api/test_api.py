"""The /api/v1 contract on the test database (PostgreSQL in CI): keys, scopes, errors,
bulk upsert with its per-row report, idempotency, refunds, figures, audit, rate limit."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from app.api.keys import create_api_key, hash_secret, revoke_api_key
from app.db import db_session, utcnow
from app.models import ApiKey, AuditLog, Obligation, PaymentMonthSummary
from tests.admin.staff_helpers import make_paid_demo_payment
from tests.api.helpers import make_tenant
from tests.conftest import make_test_app


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"customer_id": f"C{i}", "payer_name": f"Plátce {i}", "amount": 10000 + i, "variable_symbol": f"{900000 + i}"}
        for i in range(start, start + n)
    ]


def test_key_is_stored_hashed_and_works_as_bearer(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    key = db_session.scalar(select(ApiKey))
    assert key.secret_hash == hash_secret(t.secret) and t.secret not in (key.prefix, key.secret_hash)
    assert client.get("/api/v1/services", headers=t.headers).status_code == 200
    db_session.expire_all()
    assert db_session.get(ApiKey, key.id).last_used_at is not None
    for headers in ({}, {"Authorization": "Bearer pp_nope_x"}, {"Authorization": "Basic abc"}):
        r = client.get("/api/v1/services", headers=headers)
        assert r.status_code == 401 and set(r.json["error"]) >= {"code", "message", "field", "row"}


def test_revoked_and_expired_keys_are_refused(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    key = db_session.scalar(select(ApiKey))
    key.revoked_at = utcnow()
    db_session.commit()
    assert client.get("/api/v1/services", headers=t.headers).json["error"]["code"] == "invalid_key"
    k2, secret = create_api_key(t.municipality.id, "old", ["read"], expires_at=utcnow() + timedelta(seconds=60))
    k2.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    db_session.expire_all()  # read back from the database (naive UTC there)
    assert client.get("/api/v1/services", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_cached_keys_still_obey_revocation_and_expiry(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    assert client.get("/api/v1/services", headers=t.headers).status_code == 200  # now cached
    revoke_api_key(db_session.scalar(select(ApiKey).where(ApiKey.municipality_id == t.municipality.id)))
    db_session.commit()
    assert client.get("/api/v1/services", headers=t.headers).status_code == 401  # at once in this process

    # Revoked by another worker: this process's cache serves the key until it is stale.
    app.config["API_KEY_CACHE_SECONDS"] = 0.5
    other = make_tenant()
    assert client.get("/api/v1/services", headers=other.headers).status_code == 200
    db_session.execute(
        ApiKey.__table__.update().where(ApiKey.municipality_id == other.municipality.id).values(revoked_at=utcnow())
    )
    db_session.commit()
    time.sleep(0.6)
    assert client.get("/api/v1/services", headers=other.headers).status_code == 401

    # Expiry is checked on every call, cached or not.
    app.config["API_KEY_CACHE_SECONDS"] = 60
    _, secret = create_api_key(t.municipality.id, "short", ["read"], expires_at=utcnow() + timedelta(seconds=1))
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/services", headers=headers).status_code == 200
    time.sleep(1.1)
    assert client.get("/api/v1/services", headers=headers).status_code == 401


def test_scopes(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant(scopes=("read",))
    r = client.post(
        "/api/v1/obligations",
        headers=t.headers,
        json={"service_id": t.service.id, "customer_id": "A", "payer_name": "A", "amount": 100},
    )
    assert r.status_code == 403 and r.json["error"]["code"] == "insufficient_scope"
    p = make_paid_demo_payment(t.service)
    r = client.post(f"/api/v1/payments/{p.external_id}/refund", headers=t.headers, json={"amount": 1, "reason": "x"})
    assert r.status_code == 403


def test_bad_input_is_a_machine_readable_4xx(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    h = t.headers
    cases = [
        (
            client.post("/api/v1/obligations", headers={**h, "Content-Type": "application/json"}, data="{nope"),
            400,
            "malformed_json",
        ),
        (client.post("/api/v1/obligations", headers=h, data="x=1"), 415, "unsupported_media_type"),
        (
            client.post(
                "/api/v1/obligations",
                headers=h,
                json={"service_id": t.service.id, "customer_id": "A", "payer_name": "A", "amount": "lots"},
            ),
            422,
            "validation_error",
        ),
        (
            client.post(
                "/api/v1/obligations",
                headers=h,
                json={"service_id": t.service.id, "customer_id": "A", "payer_name": "A", "amount": 1, "colour": "red"},
            ),
            422,
            "validation_error",
        ),
        (client.get("/api/v1/payments?limit=abc", headers=h), 422, "validation_error"),
        (client.get("/api/v1/payments?cursor=Zm9v", headers=h), 422, "bad_cursor"),
        (client.get("/api/v1/obligations/99999999999", headers=h), 404, "not_found"),
        (client.get("/api/v1/nowhere", headers=h), 404, "not_found"),
        (client.delete("/api/v1/services", headers=h), 405, "method_not_allowed"),
    ]
    for r, status, code in cases:
        assert r.status_code == status, (r.status_code, r.json)
        assert r.json["error"]["code"] == code
    unknown = cases[3][0].json["error"]
    assert unknown["field"] == "colour"
    app.config["API_MAX_BODY_BYTES"] = 1000
    r = client.post("/api/v1/obligations/bulk", headers=h, json={"service_id": t.service.id, "rows": rows(50)})
    assert r.status_code == 413 and r.json["error"]["code"] == "body_too_large"


def test_bulk_writes_nothing_with_a_bad_row_unless_valid_rows_only(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    body = rows(5)
    body[2]["amount"] = -5
    body[4]["variable_symbol"] = body[0]["variable_symbol"]  # a duplicate, caught by the import rules
    r = client.post("/api/v1/obligations/bulk", headers=t.headers, json={"service_id": t.service.id, "rows": body})
    assert r.status_code == 422
    report = r.json["report"]
    assert not report["written"] and {e["row"] for e in report["errors"]} == {2}
    assert r.json["error"]["row"] == 2 and r.json["error"]["field"] == "amount"
    assert db_session.scalar(select(func.count()).select_from(Obligation)) == 0
    r = client.post(
        "/api/v1/obligations/bulk",
        headers=t.headers,
        json={"service_id": t.service.id, "rows": body, "valid_rows_only": True},
    )
    assert r.status_code == 200, r.json
    assert r.json["written"] and r.json["inserted"] == 3
    assert {e["row"] for e in r.json["errors"]} == {2, 4}
    # A repeat upserts: nothing new, nothing changed.
    r = client.post("/api/v1/obligations/bulk", headers=t.headers, json={"service_id": t.service.id, "rows": rows(2)})
    assert r.json["inserted"] == 0 and r.json["unchanged"] == 2


def test_bulk_takes_10000_rows_and_refuses_more(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    r = client.post(
        "/api/v1/obligations/bulk", headers=t.headers, json={"service_id": t.service.id, "rows": rows(10_000)}
    )
    assert r.status_code == 200 and r.json["inserted"] == 10_000
    r = client.post(
        "/api/v1/obligations/bulk", headers=t.headers, json={"service_id": t.service.id, "rows": rows(10_001)}
    )
    assert r.status_code == 422 and r.json["error"]["field"] == "rows"


def test_obligation_create_read_list_cancel(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    r = client.post(
        "/api/v1/obligations",
        headers=t.headers,
        json={
            "service_id": t.service.id,
            "customer_id": "K-1",
            "payer_name": "Jan Novák",
            "amount": 25000,
            "due_date": "2030-03-31",
            "variable_symbol": "1234",
        },
    )
    assert r.status_code == 201, r.json
    oid = r.json["id"]
    assert client.get(f"/api/v1/obligations/{oid}", headers=t.headers).json["state"] == "unpaid"
    listed = client.get("/api/v1/obligations?customer_id=K-1", headers=t.headers).json["items"]
    assert [o["id"] for o in listed] == [oid]
    r = client.post(f"/api/v1/obligations/{oid}/cancel", headers=t.headers)
    assert r.status_code == 200 and r.json["state"] == "cancelled"
    assert [o["id"] for o in client.get("/api/v1/obligations?state=cancelled", headers=t.headers).json["items"]] == [
        oid
    ]
    assert client.get("/api/v1/obligations?state=unpaid", headers=t.headers).json["items"] == []


def test_idempotency_key(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    h = {**t.headers, "Idempotency-Key": "order-1"}
    body = {"service_id": t.service.id, "customer_id": "I-1", "payer_name": "A", "amount": 100}
    first = client.post("/api/v1/obligations", headers=h, json=body)
    again = client.post("/api/v1/obligations", headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/obligations", headers=h, json={**body, "amount": 200})
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert db_session.scalar(select(Obligation.amount)) == 100


def test_payments_read_list_cursor_and_refund(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    paid = [make_paid_demo_payment(t.service, amount=1000 + i) for i in range(5)]
    got = client.get(f"/api/v1/payments/{paid[0].external_id}", headers=t.headers).json
    assert got["id"] == paid[0].external_id and got["amount"] == 1000
    seen, cursor = [], None
    while True:
        q = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get("/api/v1/payments" + q, headers=t.headers).json
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(p.external_id for p in paid)
    h = {**t.headers, "Idempotency-Key": "refund-1"}
    r = client.post(
        f"/api/v1/payments/{paid[0].external_id}/refund", headers=h, json={"amount": 400, "reason": "chyba"}
    )
    assert r.status_code == 200 and r.json["state"] == "partially_refunded" and r.json["amount_refunded"] == 400
    # The repeat returns the first answer and refunds nothing more.
    r = client.post(
        f"/api/v1/payments/{paid[0].external_id}/refund", headers=h, json={"amount": 400, "reason": "chyba"}
    )
    assert r.json["amount_refunded"] == 400
    r = client.post(
        f"/api/v1/payments/{paid[0].external_id}/refund", headers=t.headers, json={"amount": 10_000, "reason": "x"}
    )
    assert r.status_code == 409 and r.json["error"]["field"] == "amount"


def test_figures(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    from datetime import date

    db_session.add(
        PaymentMonthSummary(
            month=date(2026, 5, 1),
            municipality_id=t.municipality.id,
            service_id=t.service.id,
            gateway_name="demo",
            paid_count=3,
            paid_volume=1500,
            refund_count=1,
            refund_volume=100,
        )
    )
    db_session.commit()
    r = client.get("/api/v1/figures/2026/5", headers=t.headers).json
    assert (r["paid_count"], r["paid_volume"], r["refund_volume"]) == (3, 1500, 100)
    assert client.get("/api/v1/figures/2026/13", headers=t.headers).status_code == 404


def test_every_call_is_audited(app, client) -> None:  # type: ignore[no-untyped-def]
    t = make_tenant()
    client.get("/api/v1/services", headers=t.headers)
    client.get("/api/v1/obligations/12345", headers=t.headers)
    client.get("/api/v1/services")
    logs = list(db_session.scalars(select(AuditLog).order_by(AuditLog.id)))
    assert [(a.action, a.after["status"]) for a in logs] == [("api.get", 200), ("api.get", 404), ("api.get", 401)]
    assert logs[0].staff_email.startswith("api:pp_") and logs[0].municipality_id == t.municipality.id


def test_rate_limit_per_key(db_url: str) -> None:
    app = make_test_app(db_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3/minute")
    with app.app_context():
        a, b = make_tenant(), make_tenant()
        client = app.test_client()
        codes = [client.get("/api/v1/services", headers=a.headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/api/v1/services", headers=a.headers).json["error"]["code"] == "rate_limited"
        assert client.get("/api/v1/services", headers=b.headers).status_code == 200
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_description_and_docs_page(app, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert {
        "/api/v1/obligations/bulk",
        "/api/v1/payments/{external_id}/refund",
        "/api/v1/figures/{year}/{month}",
    } <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert any(n.startswith("ObligationIn") and s.get("additionalProperties") is False for n, s in schemas.items())
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/obligations/bulk" in page.data
