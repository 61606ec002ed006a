"""API test helpers: a municipality with a key; bank statements imported for it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from app.api.keys import create_api_key
from app.banking.accounts import create_account
from app.banking.importing import import_statement
from app.banking.statements.model import Statement, StatementLine, finish_statement
from app.db import db_session
from app.models import BankAccount, Municipality, Service
from tests.factories import make_municipality, make_service


@dataclass
class Tenant:
    municipality: Municipality
    service: Service
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def make_tenant(scopes: tuple[str, ...] = ("read", "write", "refunds"), **service_kw: object) -> Tenant:
    m = make_municipality()
    s = make_service(m, **service_kw)
    _, secret = create_api_key(m.id, "agenda", list(scopes))
    db_session.commit()
    return Tenant(m, s, secret)


_accounts = itertools.count(1)
WEIGHTS = (6, 3, 7, 9, 10, 5, 8, 4, 2, 1)


def new_account_number() -> str:
    """A Czech account number that passes the mod-11 check, different on every call."""
    while True:
        head = f"{3000000 + next(_accounts):09d}"
        rest = sum(int(d) * w for d, w in zip(head, WEIGHTS[:9], strict=True)) % 11
        last = (11 - rest) % 11  # the last digit's weight is 1
        if last < 10:
            return head + str(last)


def import_transfers(tenant: Tenant, lines: list[StatementLine], account: BankAccount | None = None) -> BankAccount:
    """Import a statement of ``lines`` for the tenant's account (made on first use); commits."""
    if account is None:
        account = create_account(tenant.municipality.id, f"{new_account_number()}/2010", name="Běžný účet")
        db_session.commit()
    statement = finish_statement(
        Statement(
            source_format="fio",
            currency="CZK",
            opening_balance=None,
            closing_balance=None,
            lines=tuple(lines),
            account_number=account.account_number,
            bank_code=account.bank_code,
        ),
        check_balance=False,
    )
    import_statement(account.id, statement, source="upload")
    db_session.commit()
    return account


def transfer(vs: str | None, amount: int, day: date = date(2026, 11, 2), **kw: object) -> StatementLine:
    return StatementLine(booking_date=day, amount=amount, currency="CZK", variable_symbol=vs, **kw)  # type: ignore[arg-type]
