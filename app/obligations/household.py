"""A payer's open obligations in one municipality, paid together in one payment.

After a lookup the citizen sees every open obligation of the same payer in that
municipality: those with the same customer ID (the dog's fee beside the waste fee) and
those with the same household code from the payer list (each household member's waste
fee). A signed token names the obligations shown, so paying needs no second lookup and
cannot reach obligations that were not shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, or_, select

from app.czech import sort_key
from app.db import db_session
from app.models import LookupMode, Obligation, Service
from app.obligations.lookup import LookupInputError, mask_name

MAX_ITEMS = 20  # a household's fees, not a payer list


@dataclass(frozen=True)
class HouseholdItem:
    """What the pay page shows of one obligation (masked name only)."""

    key: str  # position in the signed token, the checkbox's value
    obligation: Obligation
    service_name: str
    masked_name: str
    remaining: int
    due_date: date | None
    period: str | None


def household_obligations(obligation: Obligation) -> list[Obligation]:
    """The open obligations of this obligation's payer in its municipality (itself first,
    then by service in Czech order): same customer ID or same household, of active
    services that have payer lists."""
    same_payer = [Obligation.customer_id == obligation.customer_id]
    if obligation.household:
        same_payer.append(Obligation.household == obligation.household)
    rows = db_session.scalars(
        select(Obligation)
        .join(Service, and_(Service.id == Obligation.service_id, Service.municipality_id == Obligation.municipality_id))
        .where(
            Obligation.municipality_id == obligation.municipality_id,
            or_(*same_payer),
            Obligation.amount_paid < Obligation.amount,
            Service.active.is_(True),
            Service.lookup_mode != LookupMode.NONE,
        )
        .limit(MAX_ITEMS)
    ).all()
    rows = sorted(rows, key=lambda o: (o.id != obligation.id, sort_key(o.service.name), sort_key(o.payer_name), o.id))
    return rows


def _serializer(municipality_id: int) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"household-{municipality_id}")


def household_token(obligations: list[Obligation]) -> str:
    """Names the obligations shown (service slug and customer ID, no database ids)."""
    municipality_id = obligations[0].municipality_id
    return _serializer(municipality_id).dumps([[o.service.slug, o.customer_id] for o in obligations])


def household_from_token(municipality_id: int, token: str | None, max_age: int = 3600) -> list[Obligation]:
    """The obligations a token names, in its order; LookupInputError("expired") when it is
    forged, too old, or names an obligation that is gone."""
    if not token or len(token) > 4000:
        raise LookupInputError("expired")
    try:
        pairs = _serializer(municipality_id).loads(token, max_age=max_age)
    except BadSignature as exc:
        raise LookupInputError("expired") from exc
    out: list[Obligation] = []
    for slug, customer_id in pairs[:MAX_ITEMS]:
        found = db_session.scalar(
            select(Obligation)
            .join(Service, Service.id == Obligation.service_id)
            .where(
                Service.municipality_id == municipality_id,
                Service.slug == slug,
                Obligation.customer_id == customer_id,
            )
        )
        if found is None:
            raise LookupInputError("expired")
        out.append(found)
    return out


def describe_household(obligations: list[Obligation]) -> list[HouseholdItem]:
    return [
        HouseholdItem(
            key=str(i),
            obligation=o,
            service_name=o.service.name,
            masked_name=mask_name(o.payer_name),
            remaining=o.remaining,
            due_date=o.due_date,
            period=o.period,
        )
        for i, o in enumerate(obligations)
    ]


def chosen(obligations: list[Obligation], keys: list[str]) -> list[Obligation]:
    """The ticked obligations (checkbox values are positions in the token's list)."""
    picked = {int(k) for k in keys if k.isdigit() and int(k) < len(obligations)}
    return [o for i, o in enumerate(obligations) if i in picked]


def summary(items: list[HouseholdItem]) -> dict[str, Any]:
    return {"count": len(items), "total": sum(i.remaining for i in items)}
