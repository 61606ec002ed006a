"""Opaque identifiers shown outward instead of database ids."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l, 1, o, 0)
EXTERNAL_ID_RE = re.compile(rf"^[{_ALPHABET}]{{26}}$")


def new_external_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


# Each random byte picks one of the 32 letters by its low five bits: unbiased, and fast
# enough for the 100,000 payments of one bank statement.
_BYTE_TO_LETTER = bytes(ord(_ALPHABET[b & 31]) for b in range(256))


def new_external_ids(count: int) -> list[str]:
    raw = secrets.token_bytes(26 * count).translate(_BYTE_TO_LETTER).decode()
    return [raw[i : i + 26] for i in range(0, 26 * count, 26)]


def is_external_id(value: str) -> bool:
    return bool(EXTERNAL_ID_RE.match(value or ""))
