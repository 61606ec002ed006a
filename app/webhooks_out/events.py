"""Events: created inside the transaction of what happened (one delivery row per
subscribed endpoint), enqueued for delivery once that transaction has committed."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bulk import ids_in
from app.db import utcnow
from app.models import BankLine, BankLineMatch, Obligation, Payment, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = ("payment.paid", "payment.refunded", "payment.failed", "obligation.paid", "transfer.matched")
TEST_EVENT = "ping"
PENDING_DELIVERIES = "webhook_deliveries"


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z (naive values, from SQLite, are UTC)."""
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def emit(
    session: Session,
    municipality_id: int,
    event_type: str,
    data: dict[str, Any],
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the municipality that chose this event. Flushes;
    the deliveries are enqueued after the commit (``enqueue_after_commit``)."""
    if endpoints is None:
        endpoints = subscribed(session, municipality_id, event_type)
    return emit_many(session, municipality_id, event_type, [data], endpoints)


def subscribed(session: Session, municipality_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The municipality's active endpoints that chose ``event_type``."""
    return [
        e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.municipality_id == municipality_id, WebhookEndpoint.active.is_(True)
            )
        )
        if event_type in (e.events or [])
    ]


def emit_many(
    session: Session,
    municipality_id: int,
    event_type: str,
    datas: Sequence[dict[str, Any]],
    endpoints: Sequence[WebhookEndpoint],
) -> list[WebhookDelivery]:
    """An event per item of ``datas`` (each its own id), delivered to each of ``endpoints``;
    one flush for all of them."""
    if not endpoints or not datas:
        return []
    now = utcnow()
    rows = []
    for data in datas:
        event_id = new_event_id()
        body = json.dumps(
            {"id": event_id, "type": event_type, "created": iso(now), "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        rows.extend(
            WebhookDelivery(
                endpoint_id=e.id,
                municipality_id=municipality_id,
                event_id=event_id,
                event_type=event_type,
                body=body,
                next_attempt_at=now,
            )
            for e in endpoints
        )
    session.add_all(rows)
    session.flush()
    session.info.setdefault(PENDING_DELIVERIES, []).extend(r.id for r in rows)
    return rows


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "payment": {
            "id": payment.external_id,
            "service_id": payment.service_id,
            "obligation_id": payment.obligation_id,
            "amount": payment.amount,
            "amount_refunded": payment.amount_refunded,
            "currency": payment.currency,
            "state": payment.state,
            "variable_symbol": payment.variable_symbol,
            "paid_at": iso(payment.paid_at),
        }
    }


# -- transition listeners (registered in app.listeners) ---------------------------------
def on_paid(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.paid", payment_data(payment))
    if payment.obligation_id is not None:
        # Runs after credit_obligation (app.listeners): the amount is already counted.
        o = session.get(Obligation, payment.obligation_id, populate_existing=True)
        if o is not None and o.amount_paid >= o.amount:
            emit(session, payment.municipality_id, "obligation.paid", obligation_data(o, payment))


def on_paid_many(payment_ids: Sequence[int], session: Session) -> None:
    """``on_paid`` for a batch (a bank statement's matches): one query when no endpoint of
    the payments' municipalities chose ``payment.paid`` or ``obligation.paid``."""
    if not payment_ids:
        return
    ids = sorted(set(payment_ids))
    wanted: dict[tuple[int, str], list[WebhookEndpoint]] = {}
    for e in session.scalars(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.municipality_id.in_(
                select(Payment.municipality_id).where(ids_in(Payment.id, ids, session)).distinct()
            ),
        )
        .order_by(WebhookEndpoint.id)
    ):
        for event_type in ("payment.paid", "obligation.paid"):
            if event_type in (e.events or []):
                wanted.setdefault((e.municipality_id, event_type), []).append(e)
    if not wanted:
        return
    payments = list(
        session.scalars(
            select(Payment)
            .where(ids_in(Payment.id, ids, session))
            .order_by(Payment.id)
            .execution_options(populate_existing=True)
        )
    )
    obligation_ids = sorted({p.obligation_id for p in payments if p.obligation_id is not None})
    obligations = (
        {
            o.id: o
            for o in session.scalars(
                select(Obligation)
                .where(ids_in(Obligation.id, obligation_ids, session))
                .execution_options(populate_existing=True)
            )
        }
        if obligation_ids and any(k[1] == "obligation.paid" for k in wanted)
        else {}
    )
    by_municipality: dict[int, list[Payment]] = {}
    for p in payments:
        by_municipality.setdefault(p.municipality_id, []).append(p)
    for municipality_id, group in sorted(by_municipality.items()):
        endpoints = wanted.get((municipality_id, "payment.paid"), [])
        emit_many(session, municipality_id, "payment.paid", [payment_data(p) for p in group], endpoints)
        endpoints = wanted.get((municipality_id, "obligation.paid"), [])
        # An obligation several payments of the batch paid off is announced once, with the
        # last of them.
        last: dict[int, Payment] = {p.obligation_id: p for p in group if p.obligation_id is not None}
        paid = [
            (p, o)
            for obligation_id, p in sorted(last.items())
            if (o := obligations.get(obligation_id)) is not None and o.amount_paid >= o.amount
        ]
        emit_many(session, municipality_id, "obligation.paid", [obligation_data(o, p) for p, o in paid], endpoints)


def obligation_data(o: Obligation, payment: Payment) -> dict[str, Any]:
    return {
        "obligation": {
            "id": o.id,
            "service_id": o.service_id,
            "customer_id": o.customer_id,
            "amount": o.amount,
            "amount_paid": o.amount_paid,
            "variable_symbol": o.variable_symbol,
        },
        "payment_id": payment.external_id,
    }


def on_refunded(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.refunded", payment_data(payment))


def on_failed(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.failed", payment_data(payment))


# -- bank transfers ---------------------------------------------------------------------
def transfers_data(session: Session, lines: Sequence[BankLine]) -> list[dict[str, Any]]:
    """Statement lines as agenda systems see them (the API's list and ``transfer.matched``):
    the line and the payments recorded for it, in one query for all their matches."""
    matches: dict[int, list[dict[str, Any]]] = {line.id: [] for line in lines}
    if lines:
        for line_id, amount, undone_at, external_id, service_id, obligation_id in session.execute(
            select(
                BankLineMatch.line_id,
                BankLineMatch.amount,
                BankLineMatch.undone_at,
                Payment.external_id,
                Payment.service_id,
                Payment.obligation_id,
            )
            .join(Payment, Payment.id == BankLineMatch.payment_id)
            .where(ids_in(BankLineMatch.line_id, list(matches), session))
            .order_by(BankLineMatch.id)
        ):
            matches[line_id].append(
                {
                    "payment_id": external_id,
                    "service_id": service_id,
                    "obligation_id": obligation_id,
                    "amount": amount,
                    "undone": undone_at is not None,
                }
            )
    return [
        {
            "id": line.id,
            "booking_date": line.booking_date.isoformat(),
            "value_date": line.value_date.isoformat() if line.value_date else None,
            "amount": line.amount,
            "currency": line.currency,
            "variable_symbol": line.variable_symbol,
            "constant_symbol": line.constant_symbol,
            "specific_symbol": line.specific_symbol,
            "counter_account": line.counter_display or None,
            "counter_name": line.counter_name,
            "message": line.message,
            "state": line.status,
            "rule": line.rule,
            "manual": line.matched_by is not None,
            "overpayment": line.overpayment,
            "matched_at": iso(line.matched_at),
            "matches": matches[line.id],
        }
        for line in lines
    ]


def on_transfers_matched(session: Session, line_ids: Sequence[int]) -> None:
    """``transfer.matched`` for each of these lines just matched (by the rules of a
    statement's import or by a clerk), in the transaction that matched them: one query
    when no endpoint of their municipality chose the event."""
    if not line_ids:
        return
    ids = sorted(set(line_ids))
    by_municipality: dict[int, list[WebhookEndpoint]] = {}
    for e in session.scalars(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.municipality_id.in_(
                select(BankLine.municipality_id).where(ids_in(BankLine.id, ids, session)).distinct()
            ),
        )
        .order_by(WebhookEndpoint.id)
    ):
        if "transfer.matched" in (e.events or []):
            by_municipality.setdefault(e.municipality_id, []).append(e)
    for municipality_id, endpoints in sorted(by_municipality.items()):
        lines = list(
            session.scalars(
                select(BankLine)
                .where(ids_in(BankLine.id, ids, session), BankLine.municipality_id == municipality_id)
                .order_by(BankLine.id)
                .execution_options(populate_existing=True)
            )
        )
        datas = [{"transfer": t} for t in transfers_data(session, lines)]
        emit_many(session, municipality_id, "transfer.matched", datas, endpoints)
