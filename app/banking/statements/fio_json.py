"""The Fio API's JSON statement (``…/transactions.json``): ``accountStatement.info`` and
``transactionList.transaction[]`` whose fields are ``columnN: {"value", "name", "id"}``
objects (or null). The same reader serves uploaded files and the API client."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from .model import (
    Statement,
    StatementError,
    StatementLine,
    check_size,
    decode_utf8,
    finish_statement,
    kind_for,
    normalise_account,
    normalise_bank_code,
    normalise_iban,
    normalise_ks,
    normalise_vs,
    parse_amount,
)


def _value(row: dict[str, Any], column: int) -> Any:
    cell = row.get(f"column{column}")
    if isinstance(cell, dict):
        return cell.get("value")
    return None


def _text(row: dict[str, Any], column: int) -> str | None:
    value = _value(row, column)
    if value is None:
        return None
    return str(value).strip() or None


def _fio_date(text: Any, number: int | None = None) -> date | None:
    # Fio writes dates as "2026-11-02+0100".
    if text is None:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise StatementError("bad_line", f"not a date: {text!r}", number) from None


def _amount(value: Any, number: int | None = None) -> int | None:
    if value is None:
        return None
    # json.loads(parse_float=Decimal) keeps the bank's digits; never through float.
    return parse_amount(str(value) if not isinstance(value, Decimal) else format(value, "f"), line=number)


def _unclosed(text: str) -> bool:
    """True when the text ends inside a string, an object or an array: cut off, not malformed."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def parse_fio_json(data: bytes) -> Statement:
    return statement_from_fio_bytes(data)


def statement_from_fio_bytes(data: bytes, *, check_balance: bool = True) -> Statement:
    check_size(data)
    text = decode_utf8(bytes(data))
    if text is None:
        raise StatementError("wrong_encoding", "Fio's JSON is UTF-8; this file is not")
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        code = "truncated" if text.lstrip().startswith("{") and _unclosed(text) else "wrong_format"
        raise StatementError(code, f"not valid JSON: {exc.msg}", exc.lineno) from None
    return statement_from_fio(document, check_balance=check_balance)


def statement_from_fio(document: Any, *, check_balance: bool = True) -> Statement:
    """``check_balance=False`` for pulls from the ``last`` endpoint: Fio's cursor can stop
    in the middle of a day while the balances it reports are whole days'."""
    try:
        info = document["accountStatement"]["info"]
        listing = document["accountStatement"].get("transactionList") or {}
    except (KeyError, TypeError, AttributeError):
        raise StatementError("wrong_format", "not a Fio statement (no accountStatement.info)") from None
    if not isinstance(info, dict):
        raise StatementError("wrong_format", "not a Fio statement (no accountStatement.info)")
    rows = listing.get("transaction") or [] if isinstance(listing, dict) else []
    currency = str(info.get("currency") or "CZK")
    lines = []
    last_id = None
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise StatementError("bad_line", "a transaction that is not an object", number)
        amount = _amount(_value(row, 1), number)
        booked = _fio_date(_value(row, 0), number)
        if amount is None or booked is None:
            raise StatementError("bad_line", "a transaction without a date or an amount", number)
        movement_id = _text(row, 22)
        if movement_id is not None:
            if not movement_id.isdigit():
                raise StatementError("bad_line", f"a movement id that is not a number: {movement_id!r}", number)
            last_id = movement_id if last_id is None or int(movement_id) > int(last_id) else last_id
        kind_text = (_text(row, 8) or "").lower()
        counter = _text(row, 2)
        iban = None
        if counter and counter[:2].isalpha():
            iban, counter = normalise_iban(counter), None  # foreign payments carry an IBAN here
        fee = kind_text.startswith("poplatek")
        returned = "vrácen" in kind_text or "vratka" in kind_text
        lines.append(
            StatementLine(
                bank_id=movement_id,
                booking_date=booked,
                value_date=booked,
                amount=amount,
                currency=_text(row, 14) or currency,
                variable_symbol=normalise_vs(_text(row, 5)),
                constant_symbol=normalise_ks(_text(row, 4)),
                specific_symbol=normalise_vs(_text(row, 6)),
                counter_account=normalise_account(counter),
                counter_bank_code=normalise_bank_code(_text(row, 3)),
                counter_iban=iban,
                counter_name=_value(row, 10),
                message=_value(row, 16),
                kind=kind_for(amount, fee=fee, returned=returned),
            )
        )
    if last_id is None and info.get("idTo") is not None:
        last_id = str(info["idTo"])
    return finish_statement(
        Statement(
            source_format="fio",
            currency=currency,
            opening_balance=_amount(info.get("openingBalance")),
            closing_balance=_amount(info.get("closingBalance")),
            lines=tuple(lines),
            account_number=normalise_account(str(info.get("accountId") or "")),
            bank_code=normalise_bank_code(str(info.get("bankId") or "")),
            iban=normalise_iban(info.get("iban")),
            statement_id=str(info["idList"]) if info.get("idList") is not None else None,
            period_from=_fio_date(info.get("dateStart")),
            period_to=_fio_date(info.get("dateEnd")),
            last_id=last_id,
        ),
        check_balance=check_balance,
    )
