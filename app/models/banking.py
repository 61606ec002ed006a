"""Bank accounts of municipalities, the statements imported for them, every line of those
statements (each exactly once: the bank's id of the movement, else a checksum, unique per
account) and the payments a line was matched to."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

BANK_TRANSFER = "bank_transfer"  # the payments' gateway_name (the channel)


class LineStatus(StrEnum):
    MATCHED = "matched"  # a payment (or several) was recorded for it
    UNMATCHED = "unmatched"  # in the clerk's queue
    OUTGOING = "outgoing"  # money out (returns, bank fees, debits): never a payment
    RETURNED = "returned"  # the clerk sends it back to the payer (the list for the bank)


class BankAccount(Base):
    """A municipality's account (or a service's own): statements are imported for it."""

    __tablename__ = "bank_account"
    __table_args__ = (UniqueConstraint("account_number", "bank_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    # None: the municipality's account for all its services.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    name: Mapped[str] = mapped_column(String(120), default="")
    account_number: Mapped[str] = mapped_column(String(17))  # "19-2000145399", no zeros in front
    bank_code: Mapped[str] = mapped_column(String(4))
    iban: Mapped[str | None] = mapped_column(String(34))
    currency: Mapped[str] = mapped_column(String(3), default="CZK")
    active: Mapped[bool] = mapped_column(default=True)
    # Fio API: the token encrypted (app.banking.secrets), Fio's last movement id we stored,
    # and what the clerk sees about the pulls.
    fio_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    fio_last_id: Mapped[str | None] = mapped_column(String(30))
    fio_cursor_suspect: Mapped[bool] = mapped_column(default=False)
    last_pull_at: Mapped[datetime | None]  # the last successful pull
    last_pull_error: Mapped[str | None] = mapped_column(String(500))
    last_pull_error_at: Mapped[datetime | None]
    next_pull_after: Mapped[datetime | None]  # Fio throttled us: not before this
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship()  # noqa: F821
    service: Mapped[Service | None] = relationship()  # noqa: F821

    @property
    def display(self) -> str:
        return f"{self.account_number}/{self.bank_code}"

    @property
    def has_fio_token(self) -> bool:
        return self.fio_token_encrypted is not None


class BankStatement(Base):
    """One import: an uploaded file or one Fio pull, with what it brought."""

    __tablename__ = "bank_statement"
    __table_args__ = (Index("ix_bank_statement_municipality_created", "municipality_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_account.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    source: Mapped[str] = mapped_column(String(10))  # upload | cli | fio
    source_format: Mapped[str] = mapped_column(String(10))  # camt053 | gpc | mt940 | fio
    filename: Mapped[str | None] = mapped_column(String(255))
    bank_statement_id: Mapped[str | None] = mapped_column(String(100))
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    opening_balance: Mapped[int | None] = mapped_column(BigInteger)
    closing_balance: Mapped[int | None] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(default=0)  # lines in the file
    new_lines: Mapped[int] = mapped_column(default=0)  # not seen before
    duplicate_lines: Mapped[int] = mapped_column(default=0)
    matched_count: Mapped[int] = mapped_column(default=0)
    unmatched_count: Mapped[int] = mapped_column(default=0)
    outgoing_count: Mapped[int] = mapped_column(default=0)
    total_credit: Mapped[int] = mapped_column(BigInteger, default=0)
    total_debit: Mapped[int] = mapped_column(BigInteger, default=0)
    imported_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[BankAccount] = relationship()

    @property
    def balances_agree(self) -> bool | None:
        """Opening balance + every line = closing balance (None when the bank gave none)."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.opening_balance + self.total_credit + self.total_debit == self.closing_balance


class BankLine(Base):
    """One movement on an account, stored once whatever statements carried it."""

    __tablename__ = "bank_line"
    __table_args__ = (
        UniqueConstraint("account_id", "dedup_key"),
        Index("ix_bank_line_municipality_status", "municipality_id", "status", "booking_date"),
        CheckConstraint("overpayment >= 0", name="overpayment_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_account.id"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    # "id:<bank's id>" or "sum:<checksum>": what makes a line the same line again.
    dedup_key: Mapped[str] = mapped_column(String(80))
    bank_id: Mapped[str | None] = mapped_column(String(60))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # haléře, + in, − out
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))  # credit | debit | fee | return
    variable_symbol: Mapped[str | None] = mapped_column(String(10))
    constant_symbol: Mapped[str | None] = mapped_column(String(4))
    specific_symbol: Mapped[str | None] = mapped_column(String(10))
    # As the bank sent them.
    counter_account: Mapped[str | None] = mapped_column(String(40))
    counter_bank_code: Mapped[str | None] = mapped_column(String(11))
    counter_iban: Mapped[str | None] = mapped_column(String(34))
    counter_name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(30))  # the rule that decided (app.banking.matching)
    # Haléře received beyond what was owed: to be returned to the payer.
    overpayment: Mapped[int] = mapped_column(BigInteger, default=0)
    matched_by: Mapped[str | None] = mapped_column(String(254))  # staff e-mail of a manual match
    matched_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]  # put on the list for the bank
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[BankAccount] = relationship()
    statement: Mapped[BankStatement] = relationship()
    matches: Mapped[list[BankLineMatch]] = relationship(back_populates="line", order_by="BankLineMatch.id")

    @property
    def counter_display(self) -> str:
        if self.counter_account and self.counter_bank_code:
            return f"{self.counter_account}/{self.counter_bank_code}"
        return self.counter_account or self.counter_iban or ""

    @property
    def to_return(self) -> int:
        """Haléře to send back: the whole line once returned, else any overpayment."""
        if self.status == LineStatus.RETURNED:
            return self.amount
        return self.overpayment


class BankLineMatch(Base):
    """A payment recorded for a line (several for a transfer that pays several
    obligations). ``undone_at``: a wrong manual match undone (the payment refunded)."""

    __tablename__ = "bank_line_match"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    line_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("bank_line.id"), index=True
    )
    payment_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("payment.id"), unique=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(254))

    line: Mapped[BankLine] = relationship(back_populates="matches")
    payment: Mapped[Payment] = relationship()  # noqa: F821
