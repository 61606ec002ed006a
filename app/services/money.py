"""Money is integer haléře (1 Kč = 100 haléřů); never floats."""

from __future__ import annotations

import re

_AMOUNT_RE = re.compile(r"^(?P<crowns>\d{1,9})(?:[,.](?P<hal>\d{1,2}))?$")


class AmountError(ValueError):
    """An amount the payer typed that is not a valid sum in crowns."""


def parse_czk(text: str | None) -> int:
    """Parse what a person types ("1 250", "1250,50", "99.5", "100 Kč") into haléře."""
    if text is None:
        raise AmountError("missing")
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    cleaned = re.sub(r"(?i)(kč|czk|,-)$", "", cleaned)
    if not cleaned:
        raise AmountError("missing")
    if cleaned.startswith("-"):
        raise AmountError("negative")
    m = _AMOUNT_RE.match(cleaned)
    if not m:
        raise AmountError("not_a_number")
    hal = (m.group("hal") or "0").ljust(2, "0")
    return int(m.group("crowns")) * 100 + int(hal)


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
    crowns, hal = divmod(amount, 100)
    return f"{crowns}.{hal:02d}"
