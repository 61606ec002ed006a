"""Builds gateway adapters: from a municipality's gateway account (its own merchant
contract, secrets decrypted at build time), or from the app's configuration (the
installation-wide fallback, one instance per app and name)."""

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


def build_account_gateway(account: Any) -> Gateway:
    """The adapter for a gateway account, cached per process by (account id, updated_at):
    an edit builds a new one, the old one is dropped. Raises GatewayError (or
    SecretsUnavailable) when the account cannot be built."""
    if account.gateway_name == "demo":
        return get_gateway("demo")
    from app.gateway_accounts.crypto import SecretsUnavailable
    from app.gateway_accounts.settings import account_settings

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[int, tuple[Any, Gateway]] = app.extensions.setdefault("account_gateways", {})
    hit = cache.get(account.id)
    if hit is not None and hit[0] == account.updated_at:
        return hit[1]
    try:
        settings = account_settings(account)
    except SecretsUnavailable as exc:
        raise gateway.GatewayError(str(exc)) from None
    adapter = gateway.build(account.gateway_name, settings)
    cache[account.id] = (account.updated_at, adapter)
    return adapter


def gateway_for_payment(payment: Any) -> Gateway:
    """The adapter a payment was created with: its account's, else the configured one."""
    if payment.gateway_account_id is not None and payment.gateway_account is not None:
        return build_account_gateway(payment.gateway_account)
    return get_gateway(payment.gateway_name)


__all__ = ["SqlDemoStore", "build_account_gateway", "gateway_for_payment", "get_gateway", "replace"]


def demo_page_texts() -> Any:
    """The demo gateway's hosted page in the request's language (gateway/ translates
    nothing itself: the portal hands it its words)."""
    from flask_babel import get_locale
    from flask_babel import gettext as _

    from app.money import format_czk
    from gateway.demo.hosted import PageTexts, czech_amount

    def amount(value: int, currency: str) -> str:
        return format_czk(value) if currency == "CZK" else czech_amount(value, currency)

    return PageTexts(
        lang=str(get_locale() or "cs"),
        title=_("Demo platební brána"),
        badge=_("DEMO – žádné skutečné peníze"),
        amount_label=_("Částka k zaplacení"),
        # Formatted by the page with the state in words.
        done=_("Tato platba již byla zpracována (%(state)s)."),
        back=_("Zpět do portálu"),
        pay=_("Zaplatit"),
        decline=_("Zamítnout platbu"),
        cancel=_("Zrušit a vrátit se"),
        unknown_action=_("Neznámá volba: zvolte Zaplatit, Zamítnout platbu, nebo Zrušit a vrátit se."),
        states={
            GatewayStatus.PENDING: _("čeká na zaplacení"),
            GatewayStatus.PAID: _("zaplacena"),
            GatewayStatus.FAILED: _("zamítnuta"),
            GatewayStatus.CANCELLED: _("zrušena"),
            GatewayStatus.EXPIRED: _("vypršela"),
            GatewayStatus.PROCESSING: _("zpracovává se"),
        },
        amount=amount,
    )
