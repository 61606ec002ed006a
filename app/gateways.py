"""Builds gateway adapters from the app's configuration (one instance per app and name)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import current_app
from sqlalchemy import select

import gateway
from app.db import SessionFactory
from app.models import DemoGatewayTransaction
from gateway import Gateway, GatewayStatus
from gateway.demo import DemoTransaction


class SqlDemoStore:
    """The demo gateway's ledger in our database, in its own sessions: it is the
    gateway's side, committed independently of our payment rows."""

    def load(self, reference: str) -> DemoTransaction | None:
        with SessionFactory() as s:
            row = s.scalar(select(DemoGatewayTransaction).where(DemoGatewayTransaction.reference == reference))
            if row is None:
                return None
            return DemoTransaction(
                reference=row.reference,
                external_id=row.external_id,
                amount=row.amount,
                currency=row.currency,
                description=row.description,
                return_url=row.return_url,
                notify_url=row.notify_url,
                state=GatewayStatus(row.state),
                amount_refunded=row.amount_refunded,
            )

    def save(self, txn: DemoTransaction) -> None:
        with SessionFactory() as s, s.begin():
            row = s.get(DemoGatewayTransaction, txn.reference) or DemoGatewayTransaction(reference=txn.reference)
            row.external_id = txn.external_id
            row.amount = txn.amount
            row.amount_refunded = txn.amount_refunded
            row.currency = txn.currency
            row.description = txn.description[:300]
            row.return_url = txn.return_url
            row.notify_url = txn.notify_url
            row.state = txn.state.value
            s.add(row)


def gateway_settings(app: Any) -> dict[str, Any]:
    settings = dict(app.config)
    settings["DEMO_GATEWAY_STORE"] = SqlDemoStore()
    settings["DEMO_GATEWAY_NOTIFIER"] = app.extensions.get("demo_gateway_notifier")
    return settings


def get_gateway(name: str) -> Gateway:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, Gateway] = app.extensions.setdefault("gateways", {})
    if name not in cache:
        if name not in app.config["ENABLED_GATEWAYS"]:
            raise gateway.GatewayError(f"gateway {name!r} is not enabled")
        cache[name] = gateway.build(name, gateway_settings(app))
    return cache[name]


__all__ = ["SqlDemoStore", "get_gateway", "replace"]
