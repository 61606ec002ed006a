"""GPC (ABO), the Czech banks' fixed-width statement export: Windows-1250, 128-character
lines. ``074`` opens a statement (account, old and new balance), ``075`` is one movement,
``076``/``078``/``079`` add details to the movement before them.

Layout (1-based columns) as the ČBA/KB "formát GPC" specification gives it:

074: 1-3 "074" · 4-19 account (6 prefix + 10 number) · 20-39 account name · 40-45 old
balance date DDMMYY · 46-59 old balance (haléře) · 60 sign · 61-74 new balance · 75 sign ·
76-89 debit turnover · 90 sign · 91-104 credit turnover · 105 sign · 106-108 statement
number · 109-114 statement date · 115-128 spaces.

075: 1-3 "075" · 4-19 our account · 20-35 counter-account · 36-48 document number (the
bank's id of the movement) · 49-60 amount (haléře) · 61 posting code (1 debit, 2 credit,
4 cancelled debit, 5 cancelled credit) · 62-71 VS · 72-81 "00" + counter-bank code (4) +
KS (4) · 82-91 SS · 92-97 value date · 98-117 counter-party name · 118 "0" · 119-122
currency (ISO 4217 numeric, 0203 = CZK) · 123-128 posting date.

078/079: the message for the recipient (AV fields): 4-38 and 39-73 of each record (the
lines may end there, short of 128).
076: supplementary data (transaction id, debit date, a note); read for order only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from .model import (
    Statement,
    StatementError,
    StatementLine,
    check_size,
    finish_statement,
    kind_for,
    merge_statements,
    normalise_account,
    normalise_bank_code,
    normalise_ks,
    normalise_vs,
)

LINE_LENGTH = 128
CURRENCIES = {"0203": "CZK", "0978": "EUR", "0840": "USD", "0826": "GBP", "0985": "PLN", "0348": "HUF"}


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        raise StatementError("wrong_encoding", "the file is UTF-8; GPC is Windows-1250: export it again from the bank")
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        # Czech text in Windows-1250 is practically never valid UTF-8; a file that is (and
        # is not plain ASCII) was converted on the way and its columns no longer line up.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise StatementError(
                "wrong_encoding", "the file is UTF-8; GPC is Windows-1250: export it again from the bank"
            ) from None
    try:
        return data.decode("cp1250")
    except UnicodeDecodeError as exc:
        raise StatementError("wrong_encoding", f"byte {exc.start} is not Windows-1250") from None


def _date(text: str, number: int, *, optional: bool = False) -> date | None:
    if optional and text.strip("0 ") == "":
        return None
    try:
        return date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        raise StatementError("bad_line", f"not a date (DDMMYY): {text!r}", number) from None


def _number(text: str, number: int) -> int:
    if not text.isdigit():
        raise StatementError("bad_line", f"not a number: {text!r}", number)
    return int(text)


def _signed(value: str, sign: str, number: int) -> int:
    amount = _number(value, number)
    if sign not in "+-0 ":
        raise StatementError("bad_line", f"not a sign: {sign!r}", number)
    return -amount if sign == "-" else amount


class _Open:
    """A statement being read: its header, the movements so far, and the one whose
    message records (078/079) may still follow."""

    def __init__(self, header: Statement) -> None:
        self.header = header
        self.lines: list[StatementLine] = []
        self.pending: dict | None = None
        self.message: list[str] = []

    def flush(self) -> None:
        if self.pending is not None:
            self.lines.append(StatementLine(**self.pending, message=" ".join(m for m in self.message if m) or None))
        self.pending, self.message = None, []


def parse_gpc(data: bytes) -> Statement:
    check_size(data)
    text = _decode(bytes(data))
    rows = text.split("\n")
    if rows and rows[-1].strip() == "":
        rows.pop()
    last_row = len(rows)
    done: list[_Open] = []
    current: _Open | None = None
    for number, row in enumerate(rows, 1):
        row = row.rstrip("\r")
        kind = row[:3]
        if kind == "074":
            if number == last_row and len(row) < 114:
                raise StatementError("truncated", f"the last line has {len(row)} of 128 characters", number)
            row = row.ljust(LINE_LENGTH)  # some banks trim the trailing filler
        elif kind in ("076", "078", "079") and len(row) < LINE_LENGTH:
            row = row.ljust(LINE_LENGTH)  # message records often end after their 73 characters
        if len(row) != LINE_LENGTH:
            if number == 1 and kind != "074":
                raise StatementError("wrong_format", "not a GPC file: it does not start with a 074 record", number)
            if number == last_row and len(row) < LINE_LENGTH:
                raise StatementError("truncated", f"the last line has {len(row)} of 128 characters", number)
            raise StatementError("bad_line", f"a GPC line has 128 characters, this one {len(row)}", number)
        if kind == "074":
            if current is not None:
                done.append(current)
            current = _Open(_header(row, number))
        elif current is None:
            raise StatementError("wrong_format", "not a GPC file: it does not start with a 074 record", number)
        elif kind == "075":
            current.flush()
            current.pending = _movement(row, number, current.header)
        elif kind in ("076", "078", "079"):
            if current.pending is None:
                raise StatementError("bad_line", f"record {kind} without a movement before it", number)
            if kind in ("078", "079"):
                current.message += [row[3:38].strip(), row[38:73].strip()]
        else:
            raise StatementError("bad_line", f"unknown record type {kind!r}", number)
    if current is None:
        raise StatementError("wrong_format", "not a GPC file: no 074 record")
    done.append(current)
    return merge_statements([_close(part) for part in done])


def _header(row: str, number: int) -> Statement:
    old_date = _date(row[39:45], number)
    statement_date = _date(row[108:114], number)
    assert old_date is not None and statement_date is not None
    return Statement(
        source_format="gpc",
        currency="CZK",
        account_number=normalise_account(row[3:19]),
        opening_balance=_signed(row[45:59], row[59], number),
        closing_balance=_signed(row[60:74], row[74], number),
        statement_id=str(_number(row[105:108], number)),
        period_from=min(old_date + timedelta(days=1), statement_date),
        period_to=statement_date,
        extra={"account_name": row[19:39].rstrip(), "old_balance_date": old_date.isoformat()},
    )


def _movement(row: str, number: int, header: Statement) -> dict:
    if normalise_account(row[3:19]) != header.account_number:
        raise StatementError("bad_line", "a movement of another account than the statement's header", number)
    code = row[60]
    amount = _number(row[48:60], number)
    if code not in ("1", "2", "4", "5"):
        raise StatementError("bad_line", f"unknown posting code {code!r}", number)
    # 1 debit, 2 credit; 4 cancels a debit (money back in), 5 cancels a credit (money out).
    signed = -amount if code in ("1", "5") else amount
    symbols = row[71:81]
    currency_code = row[118:122]
    name = row[97:117].rstrip()
    counter_account = normalise_account(row[19:35])
    returned = code in ("4", "5")
    fee = signed < 0 and counter_account is None and "poplat" in name.lower()
    return dict(
        bank_id=row[35:48].strip().lstrip("0") or None,
        booking_date=_date(row[122:128], number),
        value_date=_date(row[91:97], number, optional=True),
        amount=signed,
        currency=CURRENCIES.get(currency_code, currency_code),
        variable_symbol=normalise_vs(row[61:71]),
        counter_bank_code=normalise_bank_code(symbols[2:6]),
        constant_symbol=normalise_ks(symbols[6:10]),
        specific_symbol=normalise_vs(row[81:91]),
        counter_account=counter_account,
        counter_name=name or None,
        kind=kind_for(signed, fee=fee, returned=returned),
    )


def _close(part: _Open) -> Statement:
    part.flush()
    lines = part.lines
    currencies = {line.currency for line in lines}
    currency = lines[0].currency if len(currencies) == 1 else "CZK"
    return finish_statement(replace(part.header, lines=tuple(lines), currency=currency))
