"""MT940 (SWIFT customer statement) through the ``mt-940`` package. Czech banks put the
symbols into ``:86:`` as ``/VS/123/SS/456/KS/0308`` or ``VS:123``; the counter-account
often as ``19-2000145399/0800`` there too."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import mt940

from .model import (
    Statement,
    StatementError,
    StatementLine,
    check_size,
    decode_utf8,
    finish_statement,
    kind_for,
    merge_statements,
    normalise_account,
    normalise_bank_code,
    normalise_iban,
    normalise_ks,
    normalise_vs,
    parse_amount,
    split_czech_iban,
    symbols_in,
)

_ACCOUNT_RE = re.compile(r"(?<![0-9/])((?:[0-9]{1,6}-)?[0-9]{2,10})/([0-9]{4})(?![0-9])")
_IBAN_RE = re.compile(r"\b([A-Z]{2}[0-9]{2}[A-Z0-9]{11,30})\b")
# Structured :86: subfields some Czech banks use (?20 message, ?32/?33 name, ?31 account).
_SUBFIELD_RE = re.compile(r"\?([0-9]{2})")


def _plain(value: date | None) -> date | None:
    # mt-940 returns its own date subclass; callers get plain dates.
    return None if value is None else date(value.year, value.month, value.day)


def _haler(value: Decimal) -> int:
    return parse_amount(format(value, "f"))


def _subfields(details: str) -> dict[str, str]:
    parts = _SUBFIELD_RE.split(details)
    if len(parts) < 3:
        return {}
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=False):
        fields[key] = fields.get(key, "") + value
    return fields


def parse_mt940(data: bytes) -> Statement:
    check_size(data)
    raw = bytes(data)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = decode_utf8(raw)
    if text is None:
        # MT940 is ASCII by the standard; Czech banks that keep diacritics use Windows-1250.
        if not _is_cp1250(raw):
            raise StatementError("wrong_encoding", "the file is neither UTF-8 nor Windows-1250")
        text = raw.decode("cp1250")
    if ":20:" not in text or ":60" not in text:
        raise StatementError("wrong_format", "not an MT940 statement (no :20: or :60F: field)")
    if ":62" not in text:
        raise StatementError("truncated", "the MT940 statement has no closing balance (:62F:)")
    try:
        # A file object, never the text itself: mt-940 reads a string that names an
        # existing file from disk, and an upload must not name one.
        # reversal_sign: RC (a credit reversed) takes money out, as the standard means it;
        # without it mt-940 keeps 5.0's sign and the balances would not add up.
        parsed = mt940.parse_statements(io.StringIO(text), options=mt940.Options(reversal_sign=True))
    except Exception as exc:  # noqa: BLE001 - whatever mt-940 raises, the file is unreadable
        raise StatementError(
            "bad_line", f"the MT940 statement could not be read ({type(exc).__name__}: {exc})"
        ) from None
    return merge_statements([_statement(part) for part in parsed if part.data or len(part)])


def _is_cp1250(raw: bytes) -> bool:
    try:
        raw.decode("cp1250")
    except UnicodeDecodeError:
        return False
    return True


def _statement(transactions: mt940.models.Transactions) -> Statement:
    info = transactions.data
    opening = info.get("final_opening_balance") or info.get("opening_balance")
    closing = info.get("final_closing_balance") or info.get("closing_balance")
    if opening is None or closing is None:
        raise StatementError("truncated", "an MT940 statement without its opening or closing balance")
    currency = opening.amount.currency
    if closing.amount.currency != currency:
        raise StatementError("wrong_currency", f"balances in {currency} and {closing.amount.currency}")
    account_text = (info.get("account_identification") or "").strip()
    iban = normalise_iban(account_text) if _IBAN_RE.fullmatch(account_text.replace(" ", "")) else None
    account, bank_code = split_czech_iban(iban)
    if iban is None:
        match = _ACCOUNT_RE.search(account_text)
        if match:
            account, bank_code = normalise_account(match.group(1)), normalise_bank_code(match.group(2))
        else:
            account = normalise_account(account_text)
    lines = []
    for number, tx in enumerate(transactions, 1):
        lines.append(_line(tx.data, number, currency))
    return finish_statement(
        Statement(
            source_format="mt940",
            currency=currency,
            opening_balance=_haler(opening.amount.amount),
            closing_balance=_haler(closing.amount.amount),
            lines=tuple(lines),
            account_number=account,
            bank_code=bank_code,
            iban=iban,
            statement_id=info.get("statement_number"),
            period_from=_plain(opening.date),
            period_to=_plain(closing.date),
            extra={"reference": info.get("transaction_reference") or ""},
        )
    )


def _line(tx: dict, number: int, currency: str) -> StatementLine:
    amount = tx.get("amount")
    if amount is None or tx.get("date") is None:
        raise StatementError("bad_line", "a :61: line without a date or an amount", number)
    signed = _haler(amount.amount)
    details = (tx.get("transaction_details") or "").replace("\n", " ").strip()
    fields = _subfields(details)
    message = (fields.get("20", "") + fields.get("21", "") + fields.get("22", "")).strip() or None
    name = (fields.get("32", "") + fields.get("33", "")).strip() or None
    account_text = fields.get("31") or details
    if not fields:
        message = details or None
    found = symbols_in(details, tx.get("customer_reference"))
    iban_match = _IBAN_RE.search(account_text)
    iban = normalise_iban(iban_match.group(1)) if iban_match else None
    counter_account, counter_bank = split_czech_iban(iban)
    if counter_account is None:
        match = _ACCOUNT_RE.search(account_text)
        if match:
            counter_account, counter_bank = normalise_account(match.group(1)), normalise_bank_code(match.group(2))
    type_id = (tx.get("id") or "").upper()
    status = tx.get("status") or ""
    returned = status.startswith("R") or type_id in ("NRTI", "NRET", "FRTI")
    fee = type_id in ("NCHG", "NCOM", "FCHG")
    bank_ref = tx.get("bank_reference")
    customer_ref = tx.get("customer_reference")
    return StatementLine(
        bank_id=bank_ref or (customer_ref if customer_ref and customer_ref != "NONREF" else None),
        booking_date=_plain(tx.get("entry_date") or tx["date"]),
        value_date=_plain(tx["date"]),
        amount=signed,
        currency=amount.currency or currency,
        variable_symbol=normalise_vs(found.get("VS")),
        constant_symbol=normalise_ks(found.get("KS")),
        specific_symbol=normalise_vs(found.get("SS")),
        counter_account=counter_account,
        counter_bank_code=counter_bank,
        counter_iban=iban,
        counter_name=name,
        message=message,
        kind=kind_for(signed, fee=fee, returned=returned),
    )
