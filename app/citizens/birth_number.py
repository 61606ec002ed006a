"""Birth numbers ("rodná čísla") are never stored: only a keyed HMAC, the same for the
citizen (from Bank iD or NIA, with consent) and for an obligation (from a payer list),
so the two can be matched without either side keeping the number."""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app


def _hmac_key() -> bytes:
    configured = current_app.config.get("BIRTH_NUMBER_HMAC_KEY")
    if configured:
        return str(configured).encode()
    # A key of its own, derived from SECRET_KEY, so the HMAC is not the session signing key.
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"citizen-birth-number-v1", hashlib.sha256).digest()


def normalise_birth_number(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def birth_number_hmac(value: str) -> str | None:
    """HMAC-SHA256 (hex) of the birth number's digits; None unless it has 9 or 10 digits."""
    digits = normalise_birth_number(value)
    if len(digits) not in (9, 10):
        return None
    return hmac.new(_hmac_key(), digits.encode(), hashlib.sha256).hexdigest()
