"""Factories for tests: make_municipality(), make_service(), make_payment()."""

from __future__ import annotations

import itertools

from app.db import db_session
from app.ids import new_external_id
from app.models import AmountMode, Municipality, OnboardingState, Payment, PaymentState, Region, Service
from app.regions import get_or_create_region

_seq = itertools.count(1)
# Valid IČOs (mod 11) of real Liberec Region municipalities.
ICOS = ["00262978", "00262340", "00262307", "00262277", "00525511", "43256201", "00275808", "00262391"]


def make_region(slug: str | None = None) -> Region:
    """A region of the Czech list (the deployment's default, Liberecký kraj, when None)."""
    region = get_or_create_region(db_session(), slug)
    db_session.commit()
    return region


def make_municipality(**kw: object) -> Municipality:
    n = next(_seq)
    if "region" not in kw and "region_id" not in kw:
        kw["region_id"] = make_region().id
    m = Municipality(
        name=kw.pop("name", f"Obec {n}"),
        slug=kw.pop("slug", f"obec-{n}"),
        ico=kw.pop("ico", ICOS[n % len(ICOS)] if n <= len(ICOS) else f"{n:08d}"),
        district=kw.pop("district", "Liberec"),
        iban=kw.pop("iban", "CZ6508000000192000145399"),
        onboarding_state=kw.pop("onboarding_state", OnboardingState.ACTIVE),
        demo_mode=kw.pop("demo_mode", True),
        **kw,
    )
    db_session.add(m)
    db_session.commit()
    return m


def make_service(municipality: Municipality | None = None, **kw: object) -> Service:
    municipality = municipality or make_municipality()
    n = next(_seq)
    s = Service(
        municipality_id=municipality.id,
        slug=kw.pop("slug", f"sluzba-{n}"),
        name=kw.pop("name", f"Poplatek {n}"),
        amount_mode=kw.pop("amount_mode", AmountMode.FIXED),
        amount=kw.pop("amount", 50000),
        variable_symbol=kw.pop("variable_symbol", "1337"),
        allowed_gateways=kw.pop("allowed_gateways", ["demo", "stripe"]),
        **kw,
    )
    db_session.add(s)
    db_session.commit()
    db_session.refresh(s)
    return s


def make_payment(service: Service | None = None, **kw: object) -> Payment:
    service = service or make_service()
    p = Payment(
        external_id=new_external_id(),
        municipality_id=service.municipality_id,
        service_id=service.id,
        amount=kw.pop("amount", service.amount or 10000),
        payer_name=kw.pop("payer_name", "Jana Nováková"),
        payer_email=kw.pop("payer_email", "jana@example.cz"),
        gateway_name=kw.pop("gateway_name", "demo"),
        state=kw.pop("state", PaymentState.CREATED),
        **kw,
    )
    db_session.add(p)
    db_session.commit()
    return p
