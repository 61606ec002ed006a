"""Parsing one cell of a payer list: amounts, dates, variable symbols; a bad value
raises ``BadValue`` with its reason."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.i18n import N_, Text

MAX_AMOUNT_CZK = 10_000_000  # amounts are int4 haléře in the database
_AMOUNT_FAST = re.compile(r"^(\d{1,8})(?:,(\d{1,2}))?$")
_AMOUNT_PLAIN = re.compile(r"^\d{1,9}(?:[.,]\d{1,2})?$")
_AMOUNT_DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?$")
_DATE_CZ = re.compile(r"^(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
CUSTOMER_ID_RE = re.compile(r"^[\w\-/. ]{1,50}$")


class BadValue(ValueError):
    """A cell that cannot be read; ``text`` says why (translated when shown)."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text

    def __str__(self) -> str:
        return str(self.text)


def cell_text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def parse_amount(value: Any) -> int:
    """'1 250,50' / '1.250,50' / '1250.5' / 1250.5 → haléře; BadValue with a Czech reason."""
    if type(value) is str:
        m = _AMOUNT_FAST.match(value.replace(" ", ""))
        if m:
            crowns, hal = m.groups()
            amount = int(crowns) * 100 + (int(hal) * (10 if len(hal) == 1 else 1) if hal else 0)
            if 0 < amount <= MAX_AMOUNT_CZK * 100:
                return amount
    if isinstance(value, bool):
        raise BadValue(Text(N_("Částka není číslo.")))
    if isinstance(value, int | float | Decimal):
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            raise BadValue(Text(N_("Částka není číslo."))) from None
        if d < 0:
            raise BadValue(Text(N_("Částka %(value)s je záporná."), value=cell_text(value)))
        if d != d.quantize(Decimal("0.01")):
            raise BadValue(Text(N_("Částka %(value)s má víc než dvě desetinná místa."), value=cell_text(value)))
        if d == 0:
            raise BadValue(Text(N_("Částka musí být větší než nula.")))
        if d > MAX_AMOUNT_CZK:
            raise BadValue(Text(N_("Částka je vyšší než %(max)s Kč."), max=f"{MAX_AMOUNT_CZK:,}".replace(",", " ")))
        return int(d * 100)
    raw = cell_text(value)
    if not raw:
        raise BadValue(Text(N_("Chybí částka.")))
    cleaned = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    cleaned = re.sub(r"(?i)(kč|czk|,-|,--)$", "", cleaned)
    if cleaned.startswith(("-", "−")) or cleaned.endswith("-"):
        raise BadValue(Text(N_("Částka „%(value)s“ je záporná."), value=raw))
    if _AMOUNT_DOT_THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    if not _AMOUNT_PLAIN.match(cleaned):
        raise BadValue(Text(N_("Částka „%(value)s“ není číslo v korunách (např. 1 250,50)."), value=raw[:40]))
    crowns, _, hal = cleaned.replace(",", ".").partition(".")
    amount = int(crowns) * 100 + int((hal or "0").ljust(2, "0"))
    if amount == 0:
        raise BadValue(Text(N_("Částka musí být větší než nula.")))
    if amount > MAX_AMOUNT_CZK * 100:
        raise BadValue(Text(N_("Částka je vyšší než %(max)s Kč."), max=f"{MAX_AMOUNT_CZK:,}".replace(",", " ")))
    return amount


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if type(value) is str:
        m = _DATE_CZ.match(value)
        if m:
            try:
                return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                raise BadValue(Text(N_("Datum „%(value)s“ neexistuje."), value=value[:40])) from None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = cell_text(value)
    if not raw:
        return None
    m = _DATE_CZ.match(raw)
    if m:
        d, mo, y = (int(g) for g in m.groups())
    else:
        m = _DATE_ISO.match(raw)
        if not m:
            raise BadValue(
                Text(
                    N_("Datum „%(value)s“ nemá tvar den. měsíc. rok (např. 31. 3. 2026) ani 2026-03-31."),
                    value=raw[:40],
                )
            )
        y, mo, d = (int(g) for g in m.groups())
    try:
        return date(y, mo, d)
    except ValueError:
        raise BadValue(Text(N_("Datum „%(value)s“ neexistuje."), value=raw[:40])) from None


def parse_specific_symbol(value: Any) -> str | None:
    raw = cell_text(value).replace(" ", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadValue(Text(N_("Specifický symbol „%(value)s“ smí obsahovat jen číslice."), value=raw[:40]))
    if len(raw) > 10:
        raise BadValue(Text(N_("Specifický symbol „%(value)s“ je delší než 10 číslic."), value=raw[:40]))
    return raw


def parse_variable_symbol(value: Any) -> str | None:
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 10:
        return value
    raw = cell_text(value).replace(" ", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadValue(Text(N_("Variabilní symbol „%(value)s“ smí obsahovat jen číslice."), value=raw[:40]))
    if len(raw) > 10:
        raise BadValue(Text(N_("Variabilní symbol „%(value)s“ je delší než 10 číslic."), value=raw[:40]))
    return raw
