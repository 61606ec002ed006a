"""The payment domain: create, start, move through the state machine, sync, refund.

``transition_payment`` is the only code that changes a payment's state. Views and jobs
call these functions and hold no business rules themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import db_session, utcnow
from app.gateways import get_gateway
from app.models import (
    ALLOWED_TRANSITIONS,
    AmountMode,
    GatewayNotification,
    Municipality,
    Obligation,
    OnboardingState,
    Payment,
    PaymentEvent,
    PaymentState,
    Service,
    VariableSymbolRule,
)
from app.services.ids import new_external_id
from gateway import GatewayError, GatewayStatus, InvalidNotification, PaymentRequest, StatusResult

log = logging.getLogger(__name__)
S = PaymentState


class PaymentError(Exception):
    """A payment cannot be created or moved; the message is safe to show to staff."""


class IllegalTransition(PaymentError):
    pass


class AmountRuleError(PaymentError):
    def __init__(self, code: str, limit: int | None = None):
        super().__init__(code)
        self.code = code
        self.limit = limit


# Listeners run inside the transaction of a transition, after its event is appended:
# {to_state: [fn(payment, session)]}. Receipts and obligations hook in here.
_listeners: dict[PaymentState, list[Callable[[Payment, Session], None]]] = {}


def on_transition(to_state: PaymentState) -> Callable[[Callable[[Payment, Session], None]], Any]:
    def register(fn: Callable[[Payment, Session], None]) -> Callable[[Payment, Session], None]:
        _listeners.setdefault(to_state, []).append(fn)
        return fn

    return register


def transition_payment(
    payment: Payment | int,
    to: PaymentState,
    *,
    reason: str,
    data: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> Payment:
    """Move a payment to ``to``: lock the row, ignore a repeat, refuse an illegal move,
    append an event. Does not commit; the caller's transaction does."""
    session = session or db_session()
    payment_id = payment if isinstance(payment, int) else payment.id
    locked = session.execute(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(
            populate_existing=True
        )
    ).scalar_one()
    current = PaymentState(locked.state)
    to = PaymentState(to)
    # partially_refunded → partially_refunded is a real move (a second partial refund).
    if current == to and to != S.PARTIALLY_REFUNDED:
        return locked
    if to not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(f"payment {locked.external_id}: {current} → {to} is not allowed")
    now = utcnow()
    locked.state = to
    locked.updated_at = now
    if to == S.PAID:
        locked.paid_at = now
    session.add(
        PaymentEvent(
            payment_id=locked.id,
            kind="transition",
            from_state=current,
            to_state=to,
            reason=reason[:200],
            data=dict(data or {}),
            created_at=now,
        )
    )
    session.flush()
    for listener in _listeners.get(to, []):
        listener(locked, session)
    return locked


def record_event(payment: Payment, kind: str, reason: str, data: Mapping[str, Any] | None = None) -> None:
    db_session.add(PaymentEvent(payment_id=payment.id, kind=kind, reason=reason[:200], data=dict(data or {})))


# -- creating and starting -----------------------------------------------------------
def check_amount(service: Service, amount: int | None) -> int:
    """The amount a payment for this service must have, or AmountRuleError."""
    if service.amount_mode == AmountMode.FIXED:
        if not service.amount:
            raise AmountRuleError("no_price")
        return service.amount
    if amount is None:
        raise AmountRuleError("missing")
    if amount <= 0:
        raise AmountRuleError("not_positive")
    if service.amount_min is not None and amount < service.amount_min:
        raise AmountRuleError("below_min", service.amount_min)
    if service.amount_max is not None and amount > service.amount_max:
        raise AmountRuleError("above_max", service.amount_max)
    return amount


def offered_gateways(service: Service) -> list[str]:
    """The gateways a payer of this service may choose, in the service's order.

    A municipality in demo mode only ever sees the demo gateway; otherwise the
    service's allowed gateways that this installation has enabled."""
    if service.municipality.demo_mode:
        return ["demo"]
    enabled = current_app.config.get("ENABLED_GATEWAYS") if has_app_context() else None
    allowed = list(service.allowed_gateways or ["demo"])
    return [g for g in allowed if enabled is None or g in enabled]


def choose_gateway(payment: Payment, gateway_name: str) -> Payment:
    """The payer picks how to pay (review page); only before the payment starts."""
    if payment.state != S.CREATED:
        raise PaymentError("already_started")
    if gateway_name not in offered_gateways(payment.service):
        raise PaymentError("gateway_not_allowed")
    if payment.gateway_name != gateway_name:
        record_event(payment, "gateway_message", "gateway chosen", {"from": payment.gateway_name, "to": gateway_name})
        payment.gateway_name = gateway_name
        db_session.commit()
    return payment


def _service_as_stored(service: Any) -> Service:
    """The service as the database has it now. The citizen pages show services from a
    cache (app/services/catalog.py) and a view's ORM object may be stale: neither decides
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
        from app.services.obligations import check_obligation_amount

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
    db_session.add(
        PaymentEvent(payment_id=payment.id, kind="transition", to_state=S.CREATED, reason="created")
    )
    db_session.commit()
    return payment


def _variable_symbol(service: Service, payment: Payment) -> str:
    if service.vs_rule == VariableSymbolRule.FIXED and service.variable_symbol:
        return service.variable_symbol
    prefix = service.variable_symbol or ""
    width = max(10 - len(prefix), 6)
    return (prefix + str(payment.id).zfill(width))[-10:]


def start_payment(payment: Payment, *, return_url: str, notify_url: str) -> Payment:
    """Create the payment at its gateway and move it to ``started``.

    Starting again returns the payment as it is (its redirect URL is kept)."""
    if payment.state != S.CREATED:
        return payment
    try:
        # Inside the try: a gateway that is not configured refuses like any other.
        gw = get_gateway(payment.gateway_name)
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
            )
        )
    except GatewayError as exc:
        log.warning("gateway %s refused payment %s: %s", payment.gateway_name, payment.external_id, exc)
        transition_payment(payment, S.FAILED, reason="gateway refused", data={"error": str(exc)})
        payment.failure_reason = "gateway_error"
        db_session.commit()
        return payment
    payment.gateway_reference = created.reference
    payment.gateway_redirect_url = created.redirect_url
    payment.gateway_client_secret = created.client_secret
    transition_payment(
        payment, S.STARTED, reason="created at gateway", data={"reference": created.reference}
    )
    db_session.commit()
    return payment


# -- card payments on our page (Stripe.js) -------------------------------------------
class CardPaymentError(PaymentError):
    """The card could not be submitted; ``code`` says why (safe to show, mapped to text)."""

    def __init__(self, code: str, retryable: bool = True):
        super().__init__(code)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class CardConfirmation:
    state: str
    requires_action: bool = False
    # Only when the browser must run 3-D Secure: Stripe.js needs the intent's secret.
    client_secret: str | None = None


def confirm_card_payment(payment: Payment, card_token: str) -> CardConfirmation:
    """Finalize on the server: attach the card the browser tokenized and confirm.

    Our server sees only the token, never card data. The gateway's answer goes
    through ``apply_gateway_status``; a decline makes the payment failed. When the
    bank wants 3-D Secure the payment stays started and the browser gets the secret."""
    if payment.state != S.STARTED:
        if payment.state == S.CREATED:
            raise CardPaymentError("not_started", retryable=False)
        return CardConfirmation(state=payment.state)  # paid or ended meanwhile: show it
    try:
        gw = get_gateway(payment.gateway_name)
    except GatewayError:
        raise CardPaymentError("gateway_unavailable") from None
    confirm = getattr(gw, "confirm_with_card", None)
    if not gw.embedded_fields or confirm is None or not payment.gateway_reference:
        raise CardPaymentError("no_card_form", retryable=False)
    try:
        status: StatusResult = confirm(payment.gateway_reference, card_token)
    except GatewayError as exc:
        code = getattr(exc, "code", "gateway_error")
        log.warning("card confirmation of %s refused: %s", payment.external_id, exc)
        record_event(payment, "gateway_message", "card confirmation refused", {"error": str(exc)[:200]})
        db_session.commit()
        raise CardPaymentError(code) from None
    payment = apply_gateway_status(payment, status, source="card confirmation")
    db_session.commit()
    needs_action = status.requires_action and payment.state == S.STARTED
    return CardConfirmation(
        state=payment.state,
        requires_action=needs_action,
        client_secret=payment.gateway_client_secret if needs_action else None,
    )


# -- the gateway's truth -------------------------------------------------------------
def apply_gateway_status(payment: Payment, status: StatusResult, *, source: str) -> Payment:
    """Bring our payment in line with what the gateway says. Does not commit."""
    if status.amount and status.amount != payment.amount:
        record_event(payment, "gateway_message", "amount mismatch", {"gateway_amount": status.amount})
        log.error("amount mismatch on %s: %s != %s", payment.external_id, status.amount, payment.amount)
        return payment
    state = PaymentState(payment.state)
    target: PaymentState | None = None
    if status.status == GatewayStatus.PAID and state in (S.CREATED, S.STARTED, S.EXPIRED):
        if state == S.CREATED:
            transition_payment(payment, S.STARTED, reason=f"{source}: seen at gateway")
        target = S.PAID
    elif status.status == GatewayStatus.FAILED and state in (S.CREATED, S.STARTED):
        target = S.FAILED
        payment.failure_reason = (status.failure_reason or "declined")[:200]
    elif status.status == GatewayStatus.CANCELLED and state in (S.CREATED, S.STARTED):
        target = S.CANCELLED
    if target is not None:
        payment = transition_payment(payment, target, reason=source, data={"gateway_status": status.status})
        state = target
    if state in (S.PAID, S.PARTIALLY_REFUNDED) and status.amount_refunded > payment.amount_refunded:
        _apply_refunded(payment, status.amount_refunded, reason=f"{source}: refunded at gateway")
    return payment


def _apply_refunded(payment: Payment, total_refunded: int, *, reason: str, data: Mapping[str, Any] | None = None) -> None:
    to = S.REFUNDED if total_refunded >= payment.amount else S.PARTIALLY_REFUNDED
    locked = transition_payment(payment, to, reason=reason, data={"amount_refunded": total_refunded, **(data or {})})
    locked.amount_refunded = min(total_refunded, locked.amount)


def sync_payment(payment: Payment, *, source: str) -> Payment:
    """Ask the gateway for the truth about a payment and apply it; commits."""
    if not payment.gateway_reference:
        return payment
    try:
        status = get_gateway(payment.gateway_name).get_status(payment.gateway_reference)
    except GatewayError as exc:
        log.warning("status of %s unavailable: %s", payment.external_id, exc)
        return payment
    apply_gateway_status(payment, status, source=source)
    db_session.commit()
    return payment


class NotificationRejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


_CONFLICTING = {
    GatewayStatus.PAID: {S.FAILED, S.CANCELLED},
    GatewayStatus.FAILED: {S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.CANCELLED},
    GatewayStatus.CANCELLED: {S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.FAILED},
}


def receive_notification(gateway_name: str, body: bytes, headers: Mapping[str, str]) -> GatewayNotification:
    """Verify a gateway notification and record it once; the caller enqueues processing.

    Raises NotificationRejected (4xx) for forged, malformed, replayed, unknown or stale
    notifications; nothing about the payment changes then."""
    try:
        gw = get_gateway(gateway_name)
    except GatewayError:
        raise NotificationRejected(404, "unknown gateway") from None
    try:
        note = gw.parse_notification(body, headers)
    except InvalidNotification as exc:
        raise NotificationRejected(400, f"invalid notification: {exc}") from None
    payment = db_session.scalar(
        select(Payment).where(Payment.gateway_name == gateway_name, Payment.gateway_reference == note.reference)
    )
    if payment is None:
        raise NotificationRejected(404, "unknown payment reference")
    implied = _implied_status(note.event_type)
    if implied is not None and payment.state in _CONFLICTING.get(implied, set()):
        raise NotificationRejected(409, f"stale event: payment is already {payment.state}")
    row = GatewayNotification(
        gateway_name=gateway_name, event_id=note.event_id, event_type=note.event_type, reference=note.reference
    )
    db_session.add(row)
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()
        raise NotificationRejected(409, "event already processed") from None
    record_event(payment, "gateway_message", note.event_type, {"event_id": note.event_id})
    db_session.commit()
    return row


def _implied_status(event_type: str) -> GatewayStatus | None:
    t = event_type.lower()
    if t.endswith(("succeeded", ".paid")):
        return GatewayStatus.PAID
    if t.endswith(("failed", "payment_failed")):
        return GatewayStatus.FAILED
    if t.endswith(("canceled", "cancelled")):
        return GatewayStatus.CANCELLED
    return None


def process_notification(notification_id: int) -> None:
    """The notification is only a trigger: ask the gateway for the truth."""
    note = db_session.get(GatewayNotification, notification_id)
    if note is None or note.processed_at is not None:
        return
    payment = db_session.scalar(
        select(Payment).where(Payment.gateway_name == note.gateway_name, Payment.gateway_reference == note.reference)
    )
    if payment is not None:
        sync_payment(payment, source=f"notification {note.event_id}")
    db_session.execute(
        update(GatewayNotification).where(GatewayNotification.id == note.id).values(processed_at=utcnow())
    )
    db_session.commit()


# -- refunds -------------------------------------------------------------------------
def refund_payment(payment: Payment, amount: int, *, reason: str, actor: str | None = None) -> Payment:
    """Refund all or part of a paid payment through its gateway, via the state machine."""
    if payment.state not in (S.PAID, S.PARTIALLY_REFUNDED):
        raise PaymentError("not_refundable")
    remaining = payment.amount - payment.amount_refunded
    if amount <= 0 or amount > remaining:
        raise PaymentError("refund_amount")
    if not reason.strip():
        raise PaymentError("refund_reason")
    try:
        result = get_gateway(payment.gateway_name).refund(payment.gateway_reference or "", amount, reason)
    except GatewayError as exc:
        raise PaymentError(f"gateway: {exc}") from None
    if not result.succeeded:
        raise PaymentError("gateway_refused_refund")
    _apply_refunded(
        payment,
        payment.amount_refunded + amount,
        reason=f"refund: {reason}",
        data={"refund_reference": result.refund_reference, "amount": amount, "actor": actor},
    )
    db_session.commit()
    return payment


# -- housekeeping jobs ---------------------------------------------------------------
def expire_abandoned(older_than: timedelta, now: datetime | None = None) -> int:
    """Expire payments left in created/started; ask the gateway first, it may be paid."""
    cutoff = (now or utcnow()) - older_than
    ids = db_session.scalars(
        select(Payment.id).where(Payment.state.in_([S.CREATED, S.STARTED]), Payment.updated_at < cutoff)
    ).all()
    expired = 0
    for pid in ids:
        payment = db_session.get(Payment, pid)
        if payment is None:
            continue
        if payment.state == S.STARTED:
            sync_payment(payment, source="expiry check")
            if payment.state != S.STARTED:
                continue
            try:
                get_gateway(payment.gateway_name).cancel(payment.gateway_reference or "")
            except GatewayError:
                pass
        transition_payment(payment, S.EXPIRED, reason="abandoned")
        db_session.commit()
        expired += 1
    return expired


def poll_started(older_than: timedelta, now: datetime | None = None) -> int:
    """Ask the gateway about payments stuck in started (the payer closed the tab)."""
    cutoff = (now or utcnow()) - older_than
    ids = db_session.scalars(
        select(Payment.id).where(Payment.state == S.STARTED, Payment.updated_at < cutoff)
    ).all()
    changed = 0
    for pid in ids:
        payment = db_session.get(Payment, pid)
        if payment is not None:
            sync_payment(payment, source="status poll")
            changed += payment.state != S.STARTED
    return changed


def find_payment(external_id: str) -> Payment | None:
    from app.services.ids import is_external_id

    if not is_external_id(external_id):
        return None
    return db_session.scalar(select(Payment).where(Payment.external_id == external_id))


# Listeners of other domains register themselves on import; importing them here makes
# sure they are registered wherever payments change state.
from app.services import obligations as _obligations  # noqa: E402,F401
