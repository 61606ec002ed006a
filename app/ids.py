"""Opaque identifiers shown outward instead of database ids."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l, 1, o, 0)
EXTERNAL_ID_RE = re.compile(rf"^[{_ALPHABET}]{{26}}$")


def new_external_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def is_external_id(value: str) -> bool:
    return bool(EXTERNAL_ID_RE.match(value or ""))
