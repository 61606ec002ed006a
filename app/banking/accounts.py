"""The municipalities' bank accounts: adding one (the number as the clerk types it, or an
IBAN), its Fio token (stored encrypted), finding one by what a clerk or the CLI names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.banking.errors import BankingError
from app.banking.secrets import TokenUnreadable, encrypt_token
from app.banking.statements.model import normalise_account, split_czech_iban
from app.db import db_session
from app.identifiers import account_or_iban_to_iban
from app.models import BankAccount


def parse_account(text: str) -> tuple[str, str, str]:
    """'19-2000145399/0800' or a Czech IBAN → (account number, bank code, IBAN)."""
    try:
        iban = account_or_iban_to_iban(text)
    except ValueError:
        raise BankingError("bad_account") from None
    number, bank = split_czech_iban(iban)
    if not number or not bank:
        raise BankingError("bad_account")
    return number, bank, iban


def create_account(
    municipality_id: int,
    text: str,
    *,
    name: str = "",
    service_id: int | None = None,
    fio_token: str | None = None,
    session: Session | None = None,
) -> BankAccount:
    """Add an account; does not commit."""
    session = session or db_session()
    number, bank, iban = parse_account(text)
    if session.scalar(
        select(BankAccount.id).where(BankAccount.account_number == number, BankAccount.bank_code == bank)
    ):
        raise BankingError("account_exists")
    account = BankAccount(
        municipality_id=municipality_id,
        service_id=service_id,
        name=name.strip()[:120],
        account_number=number,
        bank_code=bank,
        iban=iban,
    )
    if fio_token and fio_token.strip():
        set_fio_token(account, fio_token)
    session.add(account)
    session.flush()
    return account


def set_fio_token(account: BankAccount, token: str | None) -> None:
    """Store the token encrypted (None or blank: remove it)."""
    try:
        account.fio_token_encrypted = encrypt_token(token) if token and token.strip() else None
    except TokenUnreadable:
        raise BankingError("no_keys") from None
    account.last_pull_error = None
    account.fio_cursor_suspect = False


def find_account(text: str, session: Session | None = None) -> BankAccount | None:
    """The account named '2801234578/2010', '19-2000145399/0800' or by IBAN."""
    session = session or db_session()
    text = (text or "").strip()
    if "/" in text:
        number_text, _, bank = text.partition("/")
        number = normalise_account(number_text)
        return session.scalar(
            select(BankAccount).where(BankAccount.account_number == number, BankAccount.bank_code == bank.zfill(4))
        )
    return session.scalar(select(BankAccount).where(BankAccount.iban == text.replace(" ", "").upper()))
