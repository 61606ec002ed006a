"""Money is integer haléře (1 Kč = 100 haléřů); never floats."""

from __future__ import annotations

import re
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, format_decimal

from app.errors import DomainError

# ASCII digits only: Python's \d also matches other scripts' digits, which int() accepts.
_AMOUNT_RE = re.compile(r"^(?P<crowns>[0-9]{1,12})(?:[,.](?P<hal>[0-9]{1,2}))?$")
_SUFFIX_RE = re.compile(r"(?i)(?:,-|\.-)?(?:kč|czk)?\.?$")
_MINUS = ("-", "\u2212", "\u2013")  # hyphen, minus sign, en dash
# The largest sum a citizen may type: 10 million Kč. Keeps amounts far inside a 32-bit
# column and refuses typos with a clear message instead of a database error.
MAX_AMOUNT = 10_000_000 * 100
_DEFAULT_LOCALE = Locale.parse("cs")
_CODE_BEFORE_DIGIT = re.compile(r"([A-Z]{3})(?=[0-9])")
_DIGIT_BEFORE_CODE = re.compile(r"(?<=[0-9])([A-Z]{3})")


class AmountError(DomainError, ValueError):
    """An amount the payer typed that is not a valid sum in crowns.

    ``code`` (also ``str(exc)``): missing, negative, not_a_number or too_large."""

    domain = "money"


def parse_czk(text: str | None) -> int:
    """Parse what a person types ("1 250", "1250,50", "99.5", "100 Kč", "100,- Kč") into haléře."""
    if text is None:
        raise AmountError("missing")
    # Any whitespace, including the no-break and narrow no-break spaces used as
    # thousands separators in Czech.
    cleaned = re.sub(r"\s+", "", str(text))
    cleaned = _SUFFIX_RE.sub("", cleaned, count=1)
    if not cleaned:
        raise AmountError("missing")
    if cleaned.startswith(_MINUS):
        raise AmountError("negative")
    m = _AMOUNT_RE.match(cleaned)
    if not m:
        raise AmountError("not_a_number")
    hal = (m.group("hal") or "0").ljust(2, "0")
    amount = int(m.group("crowns")) * 100 + int(hal)
    if amount > MAX_AMOUNT:
        raise AmountError("too_large")
    return amount


def format_czk(amount: int | None, *, symbol: bool = True, locale: str | Locale | None = None) -> str:
    """Haléře for people, in the request's language (Babel's currency format for CZK).

    Czech: 1234550 → '12 345,50 Kč'; English: 'CZK 12,345.50'. Whole crowns drop the
    decimals ('500 Kč'). Outside a request the default language, Czech, is used."""
    if amount is None:
        return ""
    loc = Locale.parse(locale) if locale else _current_locale()
    value = Decimal(int(amount)).scaleb(-2)
    whole = amount % 100 == 0
    if not symbol:
        return format_decimal(value, format="#,##0" if whole else "#,##0.00", locale=loc)
    pattern = loc.currency_formats["standard"].pattern
    if whole:
        pattern = pattern.replace(".00", "")
    text = format_currency(value, "CZK", format=pattern, locale=loc, currency_digits=False)
    # CLDR's currency spacing (a no-break space between a letter code and a digit), which
    # Babel does not apply: 'CZK12.50' → 'CZK 12.50'.
    return _CODE_BEFORE_DIGIT.sub("\\1\u00a0", _DIGIT_BEFORE_CODE.sub("\u00a0\\1", text))


def format_btc(value: object, *, locale: str | Locale | None = None) -> str:
    """A BTC amount as the gateway reported it (a decimal string) with its 8 places, in the
    request's language: '0.00021740' → '0,00021740' (Czech). Text that is not a number is
    shown as it came."""
    number = _decimal(value)
    if number is None:
        return str(value or "")
    return format_decimal(number, format="#,##0.00000000", locale=Locale.parse(locale) if locale else _current_locale())


def format_rate(value: object, *, locale: str | Locale | None = None) -> str:
    """An exchange rate in Kč (a decimal string), at most two places: '2300000' →
    '2 300 000', '2312345.678' → '2 312 345,68' (Czech)."""
    number = _decimal(value)
    if number is None:
        return str(value or "")
    return format_decimal(number, format="#,##0.##", locale=Locale.parse(locale) if locale else _current_locale())


def _decimal(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return None
    return number if number.is_finite() else None


def amount_input(amount: int) -> str:
    """An amount as a form field's value, the same in every language so that
    ``parse_czk`` reads it back: 125050 → '1 250,50', 50000 → '500'."""
    return format_czk(amount, symbol=False, locale="cs")


def _current_locale() -> Locale:
    from flask_babel import get_locale

    return get_locale() or _DEFAULT_LOCALE


def to_decimal_string(amount: int) -> str:
    """Haléře as a plain decimal string with two places (SPAYD, exports): 12345 → '123.45'."""
    sign = "-" if amount < 0 else ""
    crowns, hal = divmod(abs(int(amount)), 100)
    return f"{sign}{crowns}.{hal:02d}"
