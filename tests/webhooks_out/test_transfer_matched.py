"""``transfer.matched``: emitted in the transaction that matches a statement line, by the
rules of an import or by a clerk, to the endpoints that chose it; nothing when the
matching is rolled back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.banking.importing import import_statement
from app.banking.manual import find_target, match_manually
from app.banking.statements.model import Statement, finish_statement
from app.db import db_session
from app.models import BankLine, Obligation, Payment, WebhookDelivery, WebhookEndpoint
from tests.api.helpers import import_transfers, make_tenant, transfer


def _endpoint(municipality_id: int, events: list[str]) -> WebhookEndpoint:
    e = WebhookEndpoint(municipality_id=municipality_id, url="http://127.0.0.1:9/x", secret="whsec_t", events=events)
    db_session.add(e)
    db_session.commit()
    return e


def _events(event_type: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    db_session.expire_all()
    rows = db_session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_type == event_type).order_by(WebhookDelivery.id)
    )
    return [(d.endpoint_id, json.loads(d.body)) for d in rows]


def test_matches_by_rule_and_by_hand_emit_transfer_matched(app) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    subscribed = _endpoint(tenant.municipality.id, ["transfer.matched"])
    _endpoint(tenant.municipality.id, ["payment.paid"])  # did not choose it
    other = make_tenant()
    _endpoint(other.municipality.id, ["transfer.matched"])  # another municipality's
    o = Obligation(municipality_id=tenant.municipality.id, service_id=tenant.service.id, customer_id="C1",
                   payer_name="Dvořák Jan", amount=150000, variable_symbol="2026000123")  # fmt: skip
    db_session.add(o)
    db_session.commit()
    import_transfers(tenant, [transfer("2026000123", 150000, bank_id="B1"), transfer("77", 12300, bank_id="B2")])
    [(endpoint_id, event)] = _events("transfer.matched")  # the unmatched line sends nothing
    assert endpoint_id == subscribed.id and event["type"] == "transfer.matched" and event["id"].startswith("evt_")
    payment = db_session.scalars(select(Payment).where(Payment.obligation_id == o.id)).one()
    t = event["data"]["transfer"]
    assert (t["variable_symbol"], t["amount"], t["state"], t["rule"], t["manual"]) == (
        "2026000123", 150000, "matched", "obligation_exact", False,
    )  # fmt: skip
    assert t["matches"] == [{"payment_id": payment.external_id, "service_id": tenant.service.id,
                             "obligation_id": o.id, "amount": 150000, "undone": False}]  # fmt: skip
    assert event["created"].endswith("Z") and "+00:00" not in event["created"]

    # The clerk matches the unknown transfer to another obligation by hand.
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()
    second = Obligation(municipality_id=tenant.municipality.id, service_id=tenant.service.id, customer_id="C2",
                        payer_name="Černá Marie", amount=12300, variable_symbol="2026000124")  # fmt: skip
    db_session.add(second)
    db_session.commit()
    match_manually(line.id, find_target(tenant.municipality.id, "2026000124"), staff_email="clerk@obec.cz",
                   municipality_id=tenant.municipality.id)  # fmt: skip
    events = _events("transfer.matched")
    assert len(events) == 2 and events[1][0] == subscribed.id
    manual = events[1][1]["data"]["transfer"]
    assert (manual["id"], manual["rule"], manual["manual"]) == (line.id, "manual", True)
    assert [m["obligation_id"] for m in manual["matches"]] == [second.id]
    assert "clerk@obec.cz" not in events[1][1].__repr__()


def test_a_rolled_back_import_leaves_no_event(app) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    _endpoint(tenant.municipality.id, ["transfer.matched"])
    db_session.add(Obligation(municipality_id=tenant.municipality.id, service_id=tenant.service.id,
                              customer_id="C1", payer_name="X", amount=100, variable_symbol="5"))  # fmt: skip
    db_session.commit()
    account = import_transfers(tenant, [])
    statement = finish_statement(
        Statement(source_format="fio", currency="CZK", opening_balance=None, closing_balance=None,
                  lines=(transfer("5", 100, bank_id="R1"),), account_number=account.account_number,
                  bank_code=account.bank_code),
        check_balance=False,
    )  # fmt: skip
    import_statement(account.id, statement, source="upload")
    assert len(db_session.scalars(select(WebhookDelivery)).all()) == 1  # written in the import's transaction
    db_session.rollback()
    assert _events("transfer.matched") == []
    assert db_session.info.get("webhook_deliveries") in (None, [])


@pytest.mark.parametrize("events", [["payment.paid"], []])
def test_no_subscriber_no_delivery(app, events) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    _endpoint(tenant.municipality.id, events)
    db_session.add(Obligation(municipality_id=tenant.municipality.id, service_id=tenant.service.id,
                              customer_id="C1", payer_name="X", amount=100, variable_symbol="5"))  # fmt: skip
    db_session.commit()
    import_transfers(tenant, [transfer("5", 100, bank_id="N1")])
    assert db_session.scalars(select(BankLine.status)).all() == ["matched"]
    assert _events("transfer.matched") == []


def test_a_statement_s_payments_emit_payment_and_obligation_paid(app) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    endpoint = _endpoint(tenant.municipality.id, ["payment.paid", "obligation.paid"])
    full, part = (
        Obligation(municipality_id=tenant.municipality.id, service_id=tenant.service.id, customer_id=c,
                   payer_name="X", amount=10000, variable_symbol=vs)
        for c, vs in (("C1", "11"), ("C2", "12"))
    )  # fmt: skip
    db_session.add_all([full, part])
    db_session.commit()
    import_transfers(tenant, [transfer("11", 10000, bank_id="P1"), transfer("12", 4000, bank_id="P2")])
    paid = _events("payment.paid")
    assert [e["data"]["payment"]["obligation_id"] for _, e in paid] == [full.id, part.id]
    assert {endpoint_id for endpoint_id, _ in paid} == {endpoint.id}
    assert all(
        e["data"]["payment"]["state"] == "paid" and e["data"]["payment"]["paid_at"].endswith("Z") for _, e in paid
    )
    assert len({e["id"] for _, e in paid}) == 2  # an event id each
    [(_, done)] = _events("obligation.paid")  # the partly paid obligation is not paid yet
    assert done["data"]["obligation"]["id"] == full.id and done["data"]["obligation"]["amount_paid"] == 10000
    assert done["data"]["payment_id"] == paid[0][1]["data"]["payment"]["id"]
