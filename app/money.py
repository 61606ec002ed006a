"""Money is integer haléře (1 Kč = 100 haléřů); never floats."""

from __future__ import annotations

import re

from app.errors import DomainError

# ASCII digits only: Python's \d also matches other scripts' digits, which int() accepts.
_AMOUNT_RE = re.compile(r"^(?P<crowns>[0-9]{1,12})(?:[,.](?P<hal>[0-9]{1,2}))?$")
_SUFFIX_RE = re.compile(r"(?i)(?:,-|\.-)?(?:kč|czk)?\.?$")
_MINUS = ("-", "\u2212", "\u2013")  # hyphen, minus sign, en dash
# The largest sum a citizen may type: 10 million Kč. Keeps amounts far inside a 32-bit
# column and refuses typos with a clear message instead of a database error.
MAX_AMOUNT = 10_000_000 * 100


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


def format_czk(amount: int | None, *, symbol: bool = True) -> str:
    """1234550 → '12 345,50 Kč'; whole crowns drop the decimals: 50000 → '500 Kč'."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    crowns, hal = divmod(abs(amount), 100)
    text = f"{crowns:,}".replace(",", "\u00a0")
    if hal:
        text += f",{hal:02d}"
    return f"{sign}{text}\u00a0Kč" if symbol else f"{sign}{text}"


def to_decimal_string(amount: int) -> str:
    """Haléře as a plain decimal string with two places (SPAYD, exports): 12345 → '123.45'."""
    sign = "-" if amount < 0 else ""
    crowns, hal = divmod(abs(int(amount)), 100)
    return f"{sign}{crowns}.{hal:02d}"
