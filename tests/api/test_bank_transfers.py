"""GET /api/v1/bank-transfers: the transfers credited to the key's municipality with the
payments recorded for them, filtered by state, booking date and symbol, page by page."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.banking.manual import find_target, match_manually
from app.db import db_session
from app.models import BankLine, Obligation, Payment
from tests.api.helpers import Tenant, import_transfers, make_tenant, transfer


def _obligation(tenant: Tenant, vs: str, amount: int) -> Obligation:
    o = Obligation(
        municipality_id=tenant.municipality.id,
        service_id=tenant.service.id,
        customer_id=f"C{vs}",
        payer_name="Dvořák Jan",
        amount=amount,
        variable_symbol=vs,
    )
    db_session.add(o)
    db_session.commit()
    return o


def _statement(tenant: Tenant) -> Obligation:
    o = _obligation(tenant, "2026000123", 150000)
    import_transfers(
        tenant,
        [
            transfer("2026000123", 150000, date(2026, 11, 2), counter_name="Dvořák Jan", bank_id="A1"),
            transfer("77", 12300, date(2026, 11, 3), bank_id="A2", message="za psa"),
            transfer(None, -5000, date(2026, 11, 3), kind="fee", bank_id="A3"),
        ],
    )
    return o


def test_lists_matched_and_unmatched_credits_with_their_payments(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    o = _statement(tenant)
    r = client.get("/api/v1/bank-transfers", headers=tenant.headers)
    assert r.status_code == 200, r.json
    items = r.json["items"]
    assert [(t["variable_symbol"], t["state"], t["amount"]) for t in items] == [
        ("2026000123", "matched", 150000),
        ("77", "unmatched", 12300),
    ]  # the bank's fee (money out) is not listed
    matched, unmatched = items
    payment = db_session.scalars(select(Payment).where(Payment.obligation_id == o.id)).one()
    assert matched["matches"] == [
        {
            "payment_id": payment.external_id,
            "service_id": tenant.service.id,
            "obligation_id": o.id,
            "amount": 150000,
            "undone": False,
        }
    ]
    assert (matched["rule"], matched["manual"], matched["counter_name"]) == ("obligation_exact", False, "Dvořák Jan")
    assert matched["booking_date"] == "2026-11-02" and matched["matched_at"].endswith("Z")
    assert (unmatched["rule"], unmatched["matches"], unmatched["message"]) == ("unknown_vs", [], "za psa")
    assert r.json["next_cursor"] is None

    def vs_of(query: str) -> list[str]:
        r = client.get(f"/api/v1/bank-transfers?{query}", headers=tenant.headers)
        assert r.status_code == 200, r.json
        return [t["variable_symbol"] for t in r.json["items"]]

    assert vs_of("state=unmatched") == ["77"]
    assert vs_of("state=returned") == []
    assert vs_of("date_from=2026-11-03") == ["77"]
    assert vs_of("date_to=2026-11-02") == ["2026000123"]
    assert vs_of("variable_symbol=0000000077") == ["77"]  # statements keep no zeros in front


def test_pages_by_cursor_and_shows_a_manual_match(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    _statement(tenant)
    first = client.get("/api/v1/bank-transfers?limit=1", headers=tenant.headers).json
    assert len(first["items"]) == 1 and first["next_cursor"] == str(first["items"][0]["id"])
    second = client.get(f"/api/v1/bank-transfers?limit=1&cursor={first['next_cursor']}", headers=tenant.headers).json
    assert [t["variable_symbol"] for t in second["items"]] == ["77"] and second["next_cursor"] is None

    dog = _obligation(tenant, "77", 12300)
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()
    [payment_id] = match_manually(
        line.id,
        find_target(tenant.municipality.id, "77"),
        staff_email="clerk@obec.cz",
        municipality_id=tenant.municipality.id,
    )
    item = client.get("/api/v1/bank-transfers?state=matched&date_from=2026-11-03", headers=tenant.headers).json["items"]
    assert [(t["rule"], t["manual"]) for t in item] == [("manual", True)]
    assert item[0]["matches"][0]["payment_id"] == db_session.get(Payment, payment_id).external_id
    assert item[0]["matches"][0]["obligation_id"] == dog.id
    assert "clerk@obec.cz" not in str(item)  # the clerk is staff, not the agenda system's business


def test_needs_the_read_scope_and_refuses_bad_queries(app, client) -> None:  # type: ignore[no-untyped-def]
    writer = make_tenant(scopes=("write",))
    r = client.get("/api/v1/bank-transfers", headers=writer.headers)
    assert r.status_code == 403 and r.json["error"]["code"] == "insufficient_scope"
    reader = make_tenant()
    for query, field in (("state=outgoing", "state"), ("date_from=2026-13-01", "date_from"), ("limit=0", "limit"),
                         ("cursor=abc", "cursor"), ("colour=red", "colour")):  # fmt: skip
        r = client.get(f"/api/v1/bank-transfers?{query}", headers=reader.headers)
        assert r.status_code == 422, (query, r.json)
        assert r.json["error"]["field"] == field
    huge = client.get("/api/v1/bank-transfers?cursor=9999999999999999999", headers=reader.headers)
    assert huge.status_code == 200 and huge.json["items"] == []
