"""Citizen accounts: created at first login, the citizen's payments, obligations and
consents, GDPR export and erasure.

Receipts (``Receipt``) are another room; this module uses them when they are importable
and shows nothing otherwise.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.citizens.birth_number import birth_number_hmac
from app.db import db_session, utcnow
from app.models import Citizen, CitizenCustomerId, ConsentRecord, Municipality, Obligation, Payment, Service
from app.money import format_czk

CUSTOMER_ID_RE = re.compile(r"^[0-9A-Za-z/_.-]{1,50}$")

# Stated on the erasure page and in the export: why payments stay after erasure.
RETENTION_BASIS = [
    "zákon č. 563/1991 Sb., o účetnictví, § 31–32: účetní záznamy o platbách a potvrzení o zaplacení "
    "se uchovávají a skartují ve lhůtách tohoto zákona; portál je uchovává 10 let od konce účetního období",
    "zákon č. 280/2009 Sb., daňový řád: doklady o placení místních poplatků se uchovávají po dobu "
    "běhu lhůty pro stanovení poplatku",
]


# -- login ---------------------------------------------------------------------------
def log_in_citizen(identity: Any, *, birth_number_consent: bool = False) -> Citizen:
    """The citizen account of this identity, created at the first login (flushed; the
    login view commits)."""
    stmt = select(Citizen).where(Citizen.provider == identity.provider, Citizen.subject == identity.subject)
    citizen = db_session.scalar(stmt)
    if citizen is None:
        citizen = Citizen(
            provider=identity.provider,
            subject=identity.subject,
            name=(identity.name or "")[:200],
            email=identity.email,
        )
        try:
            with db_session.begin_nested():
                db_session.add(citizen)
        except IntegrityError:
            # Two first logins at once: the other one created the account.
            citizen = db_session.scalars(stmt).one()
    if not citizen.name and identity.name:
        citizen.name = identity.name[:200]
    if not citizen.email and identity.email:
        citizen.email = identity.email
    if birth_number_consent and identity.birth_number:
        digest = birth_number_hmac(identity.birth_number)
        if digest:
            citizen.birth_number_hmac = digest
            citizen.birth_number_consent_at = utcnow()
    citizen.last_login_at = utcnow()
    db_session.flush()
    return citizen


# -- profile -------------------------------------------------------------------------
def update_profile(citizen: Citizen, *, name: str, email: str | None) -> None:
    """Save a validated name and e-mail (app/account/forms.py: ProfileForm); no e-mail
    is stored as NULL. The request commits."""
    citizen.name = name
    citizen.email = email or None
    db_session.flush()


def withdraw_birth_number_consent(citizen: Citizen) -> None:
    citizen.birth_number_hmac = None
    citizen.birth_number_consent_at = None
    db_session.flush()


def claim_customer_id(citizen: Citizen, municipality_slug: str, customer_id: str) -> str | None:
    """Add a claimed customer ID (flushed; the request commits); returns an error code or None."""
    customer_id = (customer_id or "").strip()
    if not CUSTOMER_ID_RE.match(customer_id):
        return "customer_id"
    municipality = db_session.scalar(select(Municipality).where(Municipality.slug == (municipality_slug or "")[:200]))
    if municipality is None or not municipality.is_active:
        return "municipality"
    exists = db_session.scalar(
        select(CitizenCustomerId.id).where(
            CitizenCustomerId.citizen_id == citizen.id,
            CitizenCustomerId.municipality_id == municipality.id,
            CitizenCustomerId.customer_id == customer_id,
        )
    )
    if exists:
        return None
    try:
        # A savepoint: the same ID claimed twice at once leaves one row and no error.
        with db_session.begin_nested():
            db_session.add(
                CitizenCustomerId(citizen_id=citizen.id, municipality_id=municipality.id, customer_id=customer_id)
            )
    except IntegrityError:
        pass
    return None


def remove_customer_id(citizen: Citizen, claim_id: int) -> bool:
    result = db_session.execute(
        delete(CitizenCustomerId).where(CitizenCustomerId.id == claim_id, CitizenCustomerId.citizen_id == citizen.id)
    )
    return bool(result.rowcount)


# -- what the account shows ----------------------------------------------------------
def citizen_payments(citizen: Citizen) -> list[Payment]:
    return list(
        db_session.scalars(
            select(Payment)
            .where(Payment.citizen_id == citizen.id)
            .options(selectinload(Payment.service), selectinload(Payment.municipality))
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        )
    )


def receipts_by_payment(payments: list[Payment]) -> dict[int, Any]:
    """{payment id: receipt} when the receipts room exists."""
    try:
        from app.models import Receipt  # type: ignore[attr-defined]
    except ImportError:
        return {}
    if not payments or not hasattr(Receipt, "payment_id"):
        return {}
    rows = db_session.scalars(select(Receipt).where(Receipt.payment_id.in_([p.id for p in payments])))
    return {r.payment_id: r for r in rows}


def citizen_obligations(citizen: Citizen) -> list[Obligation]:
    """Open obligations matched by the customer IDs the citizen claimed and, while the
    citizen consents to it, by birth number (the HMACs of the two sides are equal)."""
    conditions = [
        (Service.municipality_id == c.municipality_id) & (Obligation.customer_id == c.customer_id)
        for c in citizen.customer_ids
    ]
    if citizen.birth_number_hmac:
        conditions.append(Obligation.birth_number_hmac == citizen.birth_number_hmac)
    if not conditions:
        return []
    stmt = (
        select(Obligation)
        .join(Service, Service.id == Obligation.service_id)
        .where(or_(*conditions), Obligation.amount_paid < Obligation.amount, Obligation.cancelled_at.is_(None))
        .options(selectinload(Obligation.service).selectinload(Service.municipality))
        .order_by(Obligation.due_date, Obligation.id)
    )
    return list(db_session.scalars(stmt))


def citizen_consents(citizen: Citizen) -> list[ConsentRecord]:
    """Consents the citizen gave while logged in."""
    stmt = select(ConsentRecord).where(ConsentRecord.citizen_id == citizen.id).order_by(ConsentRecord.id)
    return list(db_session.scalars(stmt))


# -- GDPR ----------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs if c.key not in skip}


def export_citizen_data(citizen: Citizen) -> dict[str, Any]:
    """Everything the portal holds about the citizen (GDPR art. 15 and 20)."""
    payments = citizen_payments(citizen)
    receipts = receipts_by_payment(payments)
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "provider": citizen.provider,
            "subject": citizen.subject,
            "name": citizen.name,
            "email": citizen.email,
            "created_at": _plain(citizen.created_at),
            "last_login_at": _plain(citizen.last_login_at),
            # The birth number itself is never stored, only a keyed hash for matching.
            "matching_by_birth_number": citizen.birth_number_hmac is not None,
            "birth_number_consent_at": _plain(citizen.birth_number_consent_at),
        },
        "customer_ids": [
            {"municipality": c.municipality.name, "customer_id": c.customer_id, "created_at": _plain(c.created_at)}
            for c in citizen.customer_ids
        ],
        "payments": [
            {
                "id": p.external_id,
                "municipality": p.municipality.name,
                "service": p.service.name,
                "amount": p.amount,
                "amount_text": format_czk(p.amount),
                "amount_refunded": p.amount_refunded,
                "state": p.state,
                "variable_symbol": p.variable_symbol,
                "payer_name": p.payer_name,
                "payer_email": p.payer_email,
                "created_at": _plain(p.created_at),
                "paid_at": _plain(p.paid_at),
                "receipt": _row(receipts[p.id], skip=("id", "payment_id")) if p.id in receipts else None,
            }
            for p in payments
        ],
        "obligations": [_row(o, skip=("id",)) for o in citizen_obligations(citizen)],
        "consents": [_row(c, skip=("id", "citizen_id")) for c in citizen_consents(citizen)],
        "retention": RETENTION_BASIS,
    }


def erase_citizen(citizen: Citizen) -> None:
    """Remove the account and the payer's data on its payments, everywhere it was copied
    (app/privacy/erasure.py); each payment's accounting record and receipt stay. The
    erasure and its audit row are flushed; the request commits."""
    from app.privacy.erasure import erase_personal_data

    erase_personal_data(citizen_id=citizen.id, actor="citizen", commit=False)
