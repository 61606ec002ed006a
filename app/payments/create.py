"""Creating a payment (amount rules, gateway choice, variable symbol) and starting it
at its gateway."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db_session
from app.gateway_accounts.accounts import active_account, active_accounts
from app.gateways import gateway_for_payment
from app.ids import is_external_id, new_external_id
from app.models import (
    Municipality,
    Obligation,
    OnboardingState,
    Payment,
    PaymentEvent,
    PaymentState,
    Service,
    VariableSymbolRule,
)
from app.payments.amounts import check_amount, check_obligation_amount
from app.payments.errors import GatewayUnavailable, PaymentError
from app.payments.transitions import record_event, transition_payment
from gateway import GatewayError, PaymentRequest

log = logging.getLogger(__name__)
S = PaymentState


def demo_gateway_allowed(municipality: Any) -> bool:
    """The demo gateway moves no money: a municipality in demo mode uses it (its pages
    and receipts say so), a live one only in a demo or sandbox deployment
    (``ALLOW_DEMO_GATEWAY``, which ``scripts/demo`` and the tests turn on)."""
    if municipality.demo_mode:
        return True
    return bool(has_app_context() and current_app.config.get("ALLOW_DEMO_GATEWAY"))


def offered_gateways(service: Service) -> list[str]:
    """The gateways a payer of this service may choose.

    A municipality in demo mode only ever sees the demo gateway. Otherwise: the gateways the
    municipality has active accounts for (its own merchant contracts), then, as the
    installation-wide fallback, the service's allowed gateways that this installation has
    enabled and the municipality has no account for; the demo gateway only where the
    deployment allows it (``demo_gateway_allowed``)."""
    if service.municipality.demo_mode:
        return ["demo"]
    names = [a.gateway_name for a in active_accounts(service.municipality_id)]
    enabled = current_app.config.get("ENABLED_GATEWAYS") if has_app_context() else None
    for g in service.allowed_gateways or ["demo"]:
        if g in names or (enabled is not None and g not in enabled):
            continue
        if g == "demo" and not demo_gateway_allowed(service.municipality):
            continue
        names.append(g)
    return names


def _account_id(municipality_id: int, gateway_name: str) -> int | None:
    account = active_account(municipality_id, gateway_name)
    return account.id if account is not None else None


def choose_gateway(payment: Payment, gateway_name: str) -> Payment:
    """The payer picks how to pay (review page); only before the payment starts."""
    if payment.state != S.CREATED:
        raise PaymentError("already_started")
    if gateway_name not in offered_gateways(payment.service):
        raise PaymentError("gateway_not_allowed")
    account_id = _account_id(payment.municipality_id, gateway_name)
    if payment.gateway_name != gateway_name or payment.gateway_account_id != account_id:
        record_event(payment, "gateway_message", "gateway chosen", {"from": payment.gateway_name, "to": gateway_name})
        payment.gateway_name = gateway_name
        payment.gateway_account_id = account_id
        db_session.commit()
    return payment


def _service_as_stored(service: Any) -> Service:
    """The service as the database has it now. The citizen pages show services from a
    cache (app/catalog/cache.py) and a view's ORM object may be stale: neither decides
    whether a payment can be created. Raises PaymentError when it is gone or inactive."""
    if not isinstance(service, Service):  # a catalogue copy
        service = db_session.get(Service, service.id)
        if service is None:
            raise PaymentError("service_inactive")
    row = db_session.execute(
        select(Service.active, Municipality.onboarding_state)
        .join(Municipality, Municipality.id == Service.municipality_id)
        .where(Service.id == service.id)
    ).first()
    if row is None or not row[0] or row[1] != OnboardingState.ACTIVE:
        raise PaymentError("service_inactive")
    return service


def create_payment(
    service: Service,
    *,
    amount: int | None,
    payer_name: str,
    payer_email: str,
    gateway_name: str | None = None,
    form_token: str | None = None,
    variable_symbol: str | None = None,
    citizen_id: int | None = None,
    obligation: Obligation | None = None,
) -> Payment:
    """Create a payment in ``created``. The same form token returns the same payment.

    With an obligation, its amount rule applies and the payment carries its variable
    symbol; paying it credits the obligation. ``citizen_id`` links the payment to the
    logged-in citizen's account."""
    if form_token:
        existing = db_session.scalar(select(Payment).where(Payment.form_token == form_token))
        if existing is not None:
            return existing
    service = _service_as_stored(service)
    if not service.active or not service.municipality.is_active:
        raise PaymentError("service_inactive")
    if obligation is not None:
        if obligation.service_id != service.id:
            raise PaymentError("obligation_mismatch")
        amount = check_obligation_amount(service, obligation, amount)
        variable_symbol = variable_symbol or obligation.variable_symbol
    else:
        amount = check_amount(service, amount)
    gateways = offered_gateways(service)
    gateway_name = gateway_name or (gateways[0] if gateways else "")
    if gateway_name not in gateways:
        raise PaymentError("gateway_not_allowed")
    payment = Payment(
        external_id=new_external_id(),
        form_token=form_token,
        municipality_id=service.municipality_id,
        service_id=service.id,
        obligation_id=obligation.id if obligation is not None else None,
        amount=amount,
        payer_name=payer_name.strip(),
        payer_email=payer_email.strip(),
        gateway_name=gateway_name,
        gateway_account_id=_account_id(service.municipality_id, gateway_name),
        state=S.CREATED,
        citizen_id=citizen_id,
    )
    db_session.add(payment)
    try:
        db_session.flush()
    except IntegrityError:
        # The same form arrived twice at once: the other request won.
        db_session.rollback()
        existing = db_session.scalar(select(Payment).where(Payment.form_token == form_token))
        if existing is None:
            raise
        return existing
    payment.variable_symbol = variable_symbol or _variable_symbol(service, payment)
    db_session.add(PaymentEvent(payment_id=payment.id, kind="transition", to_state=S.CREATED, reason="created"))
    db_session.commit()
    return payment


def _variable_symbol(service: Service, payment: Payment) -> str:
    if service.vs_rule == VariableSymbolRule.FIXED and service.variable_symbol:
        return service.variable_symbol
    prefix = service.variable_symbol or ""
    width = max(10 - len(prefix), 6)
    return (prefix + str(payment.id).zfill(width))[-10:]


def payment_expires_at(payment: Payment) -> Any:
    """When ``flask payments expire`` gives up on this payment (aware UTC)."""
    minutes = int(current_app.config.get("PAYMENT_EXPIRY_MINUTES", 90)) if has_app_context() else 90
    created = payment.created_at if payment.created_at.tzinfo else payment.created_at.replace(tzinfo=UTC)
    return created + timedelta(minutes=minutes)


def start_payment(payment: Payment, *, return_url: str, notify_url: str) -> Payment:
    """Create the payment at its gateway and move it to ``started``.

    Starting again returns the payment as it is (its redirect URL is kept). When the
    gateway cannot be reached the payment stays ``created`` (nothing is lost: the payer may
    try again or pay by transfer with its variable symbol) and ``GatewayUnavailable`` is
    raised; a gateway that refuses the payment itself fails it."""
    if payment.state != S.CREATED:
        return payment
    if payment.gateway_name not in offered_gateways(payment.service):
        # Chosen while it was allowed (e.g. the demo gateway before the municipality went
        # live): never start it now.
        log.warning("gateway %s no longer allowed for payment %s", payment.gateway_name, payment.external_id)
        transition_payment(payment, S.FAILED, reason="gateway not allowed", data={"gateway": payment.gateway_name})
        payment.failure_reason = "gateway_not_allowed"
        db_session.commit()
        return payment
    try:
        # Inside the try: a gateway that is not configured refuses like any other.
        gw = gateway_for_payment(payment)
        created = gw.create(
            PaymentRequest(
                external_id=payment.external_id,
                amount=payment.amount,
                currency=payment.currency,
                description=f"{payment.service.name} – {payment.municipality.name}",
                return_url=return_url,
                notify_url=notify_url,
                payer_email=payment.payer_email,
                variable_symbol=payment.variable_symbol,
                expires_at=payment_expires_at(payment),
            )
        )
    except GatewayError as exc:
        if payment.gateway_account_id is not None:
            # A municipality's own gateway that does not answer now: keep the payment.
            log.warning("gateway %s unavailable for payment %s: %s", payment.gateway_name, payment.external_id, exc)
            record_event(payment, "gateway_message", "gateway unavailable", {"error": str(exc)[:200]})
            db_session.commit()
            raise GatewayUnavailable("gateway_unavailable") from None
        log.warning("gateway %s refused payment %s: %s", payment.gateway_name, payment.external_id, exc)
        transition_payment(payment, S.FAILED, reason="gateway refused", data={"error": str(exc)})
        payment.failure_reason = "gateway_error"
        db_session.commit()
        return payment
    payment.gateway_reference = created.reference
    payment.gateway_redirect_url = created.redirect_url
    payment.gateway_client_secret = created.client_secret
    transition_payment(payment, S.STARTED, reason="created at gateway", data={"reference": created.reference})
    db_session.commit()
    return payment


def find_payment(external_id: str) -> Payment | None:
    if not is_external_id(external_id):
        return None
    return db_session.scalar(select(Payment).where(Payment.external_id == external_id))
