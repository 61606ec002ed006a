"""Making and reading pay links. The token is the signed payload itself (itsdangerous,
keyed by SECRET_KEY): nothing is stored, a changed character breaks the signature."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.db import db_session, utcnow
from app.errors import DomainError
from app.models import Obligation, Service

SALT = "paylink-v1"


class PayLinkError(DomainError):
    """``invalid`` (tampered or unknown), ``expired``, ``gone`` (the service or obligation is no more)."""

    domain = "paylink"


@dataclass
class PayLink:
    service: Service
    obligation: Obligation | None
    amount: int | None
    payer_name: str
    payer_email: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(
    service: Service,
    *,
    obligation: Obligation | None = None,
    amount: int | None = None,
    payer_name: str | None = None,
    payer_email: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    payload: dict[str, object] = {"s": service.id}
    if obligation is not None:
        payload["o"] = obligation.id
    if amount is not None:
        payload["a"] = amount
    if payer_name:
        payload["n"] = payer_name[:200]
    if payer_email:
        payload["e"] = payer_email[:254]
    if expires_at is not None:
        aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
        payload["x"] = int(aware.timestamp())
    return _serializer().dumps(payload)


def pay_link_url(token: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for("paylinks.open_link", token=token, _external=False)


def read_token(token: str) -> PayLink:
    if len(token) > 2000:
        raise PayLinkError("invalid")
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise PayLinkError("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise PayLinkError("invalid")
    if "x" in payload and payload["x"] < utcnow().timestamp():
        raise PayLinkError("expired")
    service = db_session.get(Service, payload["s"])
    if service is None or not service.active:
        raise PayLinkError("gone")
    obligation = None
    if "o" in payload:
        obligation = db_session.scalar(
            select(Obligation).where(Obligation.id == payload["o"], Obligation.service_id == service.id)
        )
        if obligation is None or obligation.cancelled_at is not None:
            raise PayLinkError("gone")
    return PayLink(service, obligation, payload.get("a"), payload.get("n", ""), payload.get("e", ""))


def links_csv(service: Service, *, expires_at: datetime | None = None) -> bytes:
    """One row per obligation of the service, with its pay link (for a mail merge)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["customer_id", "payer_name", "amount", "variable_symbol", "due_date", "pay_link"])
    rows = db_session.scalars(
        select(Obligation)
        .where(Obligation.service_id == service.id, Obligation.cancelled_at.is_(None))
        .order_by(Obligation.customer_id)
    )
    for o in rows:
        url = pay_link_url(make_token(service, obligation=o, payer_name=o.payer_name, expires_at=expires_at))
        w.writerow(
            [
                o.customer_id,
                o.payer_name,
                f"{o.amount // 100},{o.amount % 100:02d}",
                o.variable_symbol or "",
                o.due_date.isoformat() if o.due_date else "",
                url,
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode()
