"""A municipality with a bank account, a waste fee with a payer list, and the sample week."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.banking.accounts import create_account
from app.db import db_session
from app.models import BankAccount, Municipality, Obligation, Service
from tests.factories import make_municipality, make_service

SAMPLES = Path(__file__).parent / "samples"
ACCOUNT = "2801234578/2010"


@dataclass
class Bank:
    municipality: Municipality
    service: Service
    account: BankAccount
    obligations: dict[str, Obligation]


def add_obligation(service: Service, vs: str, amount: int, customer: str, name: str = "Plátce") -> Obligation:
    o = Obligation(
        municipality_id=service.municipality_id, service_id=service.id, customer_id=customer, payer_name=name,
        amount=amount, variable_symbol=vs,
    )  # fmt: skip
    db_session.add(o)
    db_session.commit()
    return o


@pytest.fixture
def bank(app) -> Bank:  # type: ignore[no-untyped-def]
    municipality = make_municipality(name="Světlá pod Ještědem", iban="CZ0520100000002801234578")
    service = make_service(municipality, name="Odpady 2026", slug="odpady", amount=None, amount_mode="payer",
                           variable_symbol="2026", constant_symbol="0558", lookup_mode="optional")  # fmt: skip
    dogs = make_service(municipality, name="Poplatek ze psa", slug="psi-rocni", amount=None, amount_mode="payer",
                        variable_symbol="2027", lookup_mode="optional")  # fmt: skip
    account = create_account(municipality.id, ACCOUNT, name="Běžný účet")
    db_session.commit()
    obligations = {
        "123": add_obligation(service, "2026000123", 150000, "C123", "Dvořák Jan"),
        "124": add_obligation(service, "2026000124", 189000, "C124", "Černá Marie"),
        "456": add_obligation(service, "2026000456", 150000, "C456", "Šťastný Jiří"),
        "457": add_obligation(dogs, "2026000457", 50000, "C456", "Šťastný Jiří"),
        "789": add_obligation(service, "2026000789", 30000, "C789", "Řeháková Žaneta"),
    }
    return Bank(municipality, service, account, obligations)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
