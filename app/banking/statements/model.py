"""Plain values every statement parser returns, and the one error they raise.

No ORM and no Flask here: matching, storage and the clerk screens build on these."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation

# A statement larger than this is refused before any parsing: a month of a large town's
# account is a few MB; 50 MB is a mistake or an attack.
MAX_BYTES = 50 * 1024 * 1024

CREDIT = "credit"
DEBIT = "debit"
FEE = "fee"
RETURN = "return"

ERROR_CODES = frozenset(
    {
        "wrong_format",
        "wrong_encoding",
        "truncated",
        "balance_mismatch",
        "too_large",
        "bad_line",
        "wrong_currency",
        "empty",
        "mixed_accounts",
    }
)


class StatementError(ValueError):
    """A statement refused as a whole; ``code`` is stable (for translations and tests),
    ``line`` is the 1-based line of the file (or entry number) where it went wrong."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        assert code in ERROR_CODES, code
        self.code = code
        self.message = message
        self.line = line
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{code}: {message}{where}")


@dataclass(frozen=True)
class StatementLine:
    booking_date: date
    amount: int  # haléře, + credit (money in), − debit (money out)
    currency: str
    bank_id: str | None = None  # the bank's own id of the movement; None when it gives none
    value_date: date | None = None
    variable_symbol: str | None = None
    constant_symbol: str | None = None
    specific_symbol: str | None = None
    counter_account: str | None = None  # "19-2000145399" (prefix-number, no zeros in front)
    counter_bank_code: str | None = None  # "0800"
    counter_iban: str | None = None
    counter_name: str | None = None  # as the bank sent it
    message: str | None = None  # message for the recipient
    kind: str = CREDIT  # credit / debit / fee / return
    checksum: str = ""  # filled by finish_statement()


@dataclass(frozen=True)
class Statement:
    source_format: str  # "camt053", "gpc", "mt940", "fio"
    currency: str
    opening_balance: int | None  # haléře
    closing_balance: int | None
    lines: tuple[StatementLine, ...] = ()
    account_number: str | None = None  # "2001234567" or "19-2000145399"
    bank_code: str | None = None
    iban: str | None = None
    statement_id: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    # Fio: the highest movement id in this pull, the value to keep for set_last_id().
    last_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def total_credit(self) -> int:
        return sum(line.amount for line in self.lines if line.amount > 0)

    @property
    def total_debit(self) -> int:
        return sum(line.amount for line in self.lines if line.amount < 0)


# -- normalising what banks send ---------------------------------------------------------
_NON_DIGITS = re.compile(r"[^0-9]")


def digits(text: str | None) -> str:
    # ASCII digits only: banks pad with spaces and some put "VS" or dashes in the field.
    return _NON_DIGITS.sub("", text or "")


def normalise_vs(text: str | None) -> str | None:
    """Variable and specific symbols: digits only, without leading zeros ("0000123" = "123");
    the fixed-width formats pad both with zeros, so "0" or nothing means none."""
    value = digits(text).lstrip("0")
    return value[:10] or None


def normalise_ks(text: str | None) -> str | None:
    """Constant symbols are four digits at most (ČNB's list writes "0558"): pad to four so
    "558" from one bank equals "0558" from another; all zeros means none."""
    value = digits(text).lstrip("0")
    return value.zfill(4)[-4:] if value else None


def normalise_account(text: str | None) -> str | None:
    """ "000019-0002000145399" or "0000192000145399" → "19-2000145399"; "" → None."""
    if not text:
        return None
    raw = text.strip().replace(" ", "")
    if "-" in raw:
        prefix, _, number = raw.partition("-")
    elif len(digits(raw)) == 16:  # fixed-width: 6 digits of prefix, 10 of number
        prefix, number = raw[:6], raw[6:]
    else:
        prefix, number = "", raw
    prefix, number = digits(prefix).lstrip("0"), digits(number).lstrip("0")
    if not number:
        return None
    return f"{prefix}-{number}" if prefix else number


def normalise_bank_code(text: str | None) -> str | None:
    value = digits(text)
    return value.zfill(4) if value and int(value) else None


def normalise_iban(text: str | None) -> str | None:
    value = re.sub(r"\s+", "", text or "").upper()
    return value or None


def split_czech_iban(iban: str | None) -> tuple[str | None, str | None]:
    """CZkk BBBB PPPPPP NNNNNNNNNN → ("prefix-number", "BBBB"); (None, None) otherwise."""
    if not iban or not iban.startswith("CZ") or len(iban) != 24 or not iban[2:].isdigit():
        return None, None
    return normalise_account(iban[8:]), iban[4:8]


def parse_amount(text: str, *, line: int | None = None) -> int:
    """A decimal amount as banks write it ("1500.00", "1500,5", "-25") → haléře, exactly."""
    cleaned = str(text).strip().replace(",", ".").replace(" ", "").replace("\u00a0", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise StatementError("bad_line", f"not an amount: {text!r}", line) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise StatementError("bad_line", f"not an amount in whole haléře: {text!r}", line)
    return int(value * 100)


def check_size(data: bytes) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("statement data must be bytes")
    if len(data) > MAX_BYTES:
        raise StatementError("too_large", f"the file has {len(data)} bytes; at most {MAX_BYTES} are accepted")
    if not len(data):
        raise StatementError("empty", "the file is empty")


def decode_utf8(data: bytes) -> str | None:
    """The text, or None when it is not UTF-8; a file cut in the middle of a character is
    ``truncated``, not in a wrong encoding."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            raise StatementError("truncated", "the file ends in the middle of a character") from None
        return None


# -- the checks every parser ends with -------------------------------------------------------
def line_checksum(account: str, line: StatementLine, occurrence: int) -> str:
    """A stable id for a line when the bank gives none: the same movement in an overlapping
    statement hashes the same. Two identical movements on one day (same payer, symbols,
    amount, message) differ only by ``occurrence``: their order within the statement."""
    parts = [
        account,
        line.booking_date.isoformat(),
        line.value_date.isoformat() if line.value_date else "",
        str(line.amount),
        line.currency,
        line.variable_symbol or "",
        line.constant_symbol or "",
        line.specific_symbol or "",
        line.counter_account or "",
        line.counter_bank_code or "",
        line.counter_iban or "",
        line.message or "",
    ]
    if occurrence:
        parts.append(str(occurrence))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def finish_statement(statement: Statement, *, check_balance: bool = True) -> Statement:
    """Refuse a statement whose lines do not add up, or that mixes currencies, and give
    every line its checksum."""
    for number, line in enumerate(statement.lines, 1):
        if line.currency != statement.currency:
            raise StatementError(
                "wrong_currency",
                f"line {number} is in {line.currency}, the statement in {statement.currency}",
                number,
            )
    if check_balance and statement.opening_balance is not None and statement.closing_balance is not None:
        total = sum(line.amount for line in statement.lines)
        if statement.opening_balance + total != statement.closing_balance:
            raise StatementError(
                "balance_mismatch",
                f"opening balance {statement.opening_balance} + lines {total} ≠ closing balance "
                f"{statement.closing_balance} (haléře)",
            )
    # The account number, not the IBAN: GPC names no bank, so an account's lines hash alike
    # whichever format carried them.
    account = statement.account_number or statement.iban or ""
    seen: dict[tuple, int] = {}
    for line in statement.lines:
        key = (line.booking_date, line.value_date, line.amount, line.variable_symbol, line.constant_symbol,
               line.specific_symbol, line.counter_account, line.counter_bank_code, line.counter_iban, line.message,
               line.currency)  # fmt: skip
        occurrence = seen.get(key, -1) + 1
        seen[key] = occurrence
        # The lines were made by the parser a moment ago and nobody holds them yet: setting
        # the field in place is safe and saves copying 100,000 frozen lines (replace()).
        object.__setattr__(line, "checksum", line_checksum(account, line, occurrence))
    return statement


def merge_statements(parts: Sequence[Statement]) -> Statement:
    """Several statements of one account in one file (a GPC or MT940 export of a month is a
    statement per day) → one, if they follow each other: each opens where the last closed."""
    if not parts:
        raise StatementError("empty", "the file holds no statement")
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    for previous, part in zip(parts, parts[1:], strict=False):
        if (part.account_number, part.bank_code, part.iban) != (first.account_number, first.bank_code, first.iban):
            raise StatementError(
                "mixed_accounts", "the file holds statements of several accounts: upload them one by one"
            )
        if part.currency != first.currency:
            raise StatementError("wrong_currency", f"the file mixes {first.currency} and {part.currency} statements")
        if (
            previous.closing_balance is not None
            and part.opening_balance is not None
            and previous.closing_balance != part.opening_balance
        ):
            raise StatementError(
                "balance_mismatch",
                f"statement {part.statement_id} opens with {part.opening_balance}, "
                f"the one before it closed with {previous.closing_balance} (haléře)",
            )
    ids = [p.statement_id for p in parts if p.statement_id]
    return replace(
        first,
        lines=tuple(line for p in parts for line in p.lines),
        closing_balance=parts[-1].closing_balance,
        statement_id=f"{ids[0]}–{ids[-1]}" if ids else None,
        period_from=min((p.period_from for p in parts if p.period_from), default=None),
        period_to=max((p.period_to for p in parts if p.period_to), default=None),
    )


def kind_for(amount: int, *, fee: bool = False, returned: bool = False) -> str:
    if returned:
        return RETURN
    if fee and amount < 0:
        return FEE
    return CREDIT if amount >= 0 else DEBIT


# "/VS/123/SS/42/KS/0558", "VS:123", "VS 123", "vs123": Czech banks write symbols into
# references and messages in all these shapes.
_SYMBOL_RE = re.compile(r"(?<![A-Za-z])(VS|KS|SS)(?![A-Za-z])\s*[:/=]?\s*([0-9]{1,10})(?![0-9])", re.IGNORECASE)


def symbols_in(*texts: str | None) -> dict[str, str]:
    """The first VS, KS and SS found in the texts, in order: {"VS": "123", "KS": "0558"}."""
    found: dict[str, str] = {}
    for text in texts:
        for name, value in _SYMBOL_RE.findall(text or ""):
            found.setdefault(name.upper(), value)
    return found
