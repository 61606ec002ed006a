"""The payer's lookup on the pay form: find an obligation by customer ID or variable
symbol, a signed token for the form, the amount rule of paying one."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.db import db_session
from app.errors import DomainError
from app.models import (
    AmountMatch,
    LookupMode,
    Obligation,
    Service,
)
from app.money import format_czk
from app.obligations.values import CUSTOMER_ID_RE


class LookupInputError(DomainError, ValueError):
    """What the payer typed is not a customer ID or variable symbol (missing, too_long,
    invalid); or, on paying, the lookup is missing (required) or too old (expired)."""

    domain = "lookup"


LOOKUP_MAX_LENGTH = 100


def normalize_lookup(text: str | None) -> str:
    query = " ".join((text or "").split())
    if not query:
        raise LookupInputError("missing")
    if len(query) > LOOKUP_MAX_LENGTH:
        raise LookupInputError("too_long")
    if not CUSTOMER_ID_RE.match(query):
        raise LookupInputError("invalid")
    return query


def find_obligation(service: Service, text: str | None) -> Obligation | None:
    """The obligation of this service with this customer ID or variable symbol.

    Only this service is searched, so another municipality's IDs are simply unknown."""
    query = normalize_lookup(text)
    found = db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == query)
    )
    if found is None and query.isascii() and query.isdigit() and len(query) <= 10:
        found = db_session.scalar(
            select(Obligation).where(Obligation.service_id == service.id, Obligation.variable_symbol == query)
        )
    return found


def mask_name(name: str) -> str:
    """'Jana Nováková' → 'J*** N***': the first letter of each word, never its length."""
    return " ".join(word[0] + "***" for word in name.split() if word)


def _serializer(service: Service) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"obligation-lookup-{service.id}")


def obligation_token(service: Service, obligation: Obligation) -> str:
    """A signed token for the pay form, so paying needs no second (unlimited) lookup."""
    return _serializer(service).dumps(obligation.customer_id)


def obligation_from_token(service: Service, token: str | None, max_age: int = 3600) -> Obligation | None:
    if not token or len(token) > 300:
        return None
    try:
        customer_id = _serializer(service).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == customer_id)
    )


def obligation_for_payment(service: Service, token: str | None) -> Obligation | None:
    """The obligation a pay form pays: the one its lookup token names. Raises
    LookupInputError when the token is too old or forged ("expired"), or when the service
    requires a lookup and there is none ("required"); None for a payment without one."""
    if service.lookup_mode != LookupMode.NONE and token:
        obligation = obligation_from_token(service, token)
        if obligation is None:
            raise LookupInputError("expired")
        return obligation
    if service.lookup_mode == LookupMode.REQUIRED:
        raise LookupInputError("required")
    return None


def amount_editable(service: Service) -> bool:
    return service.amount_match != AmountMatch.EXACT


def describe_obligation(obligation: Obligation, today: date | None = None) -> dict[str, Any]:
    """Everything the payer may see: nothing beyond the masked name."""
    return {
        "masked_name": mask_name(obligation.payer_name),
        "amount": obligation.amount,
        "remaining": obligation.remaining,
        "amount_paid": obligation.amount_paid,
        "due_date": obligation.due_date,
        "period": obligation.period,
        "state": obligation.state_on(today or date.today()),
        "remaining_text": format_czk(obligation.remaining),
    }
