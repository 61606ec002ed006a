"""Czech text: searching without diacritics or case, and Czech alphabetical order.

PostgreSQL sorts with its ICU collation ``cs-CZ-x-icu``. SQLite (development, demo) has
no ICU, so every SQLite connection gets a collation of the same name implemented by
``sort_key`` below (``register_sqlite_collation``, called from ``app.db.make_engine``):
``ORDER BY name COLLATE "cs-CZ-x-icu"`` is then the same SQL, and the same order, on both.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement

COLLATION = "cs-CZ-x-icu"

# The Czech alphabet's primary letters: č ř š ž are letters of their own (after c r s z),
# "ch" is one letter after h; á é ě í ó ú ů ý ď ť ň differ from their base letter only at
# the second level (they sort as the base letter unless the words are otherwise equal).
_ALPHABET = [
    "a",
    "b",
    "c",
    "č",
    "d",
    "e",
    "f",
    "g",
    "h",
    "ch",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "ř",
    "s",
    "š",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "ž",
]
_PRIMARY = {letter: i + 1 for i, letter in enumerate(_ALPHABET)}
_OWN_LETTERS = {"č", "ř", "š", "ž"}


def fold(text: str | None) -> str:
    """Lower case without diacritics and with single spaces: 'Česká  Lípa' → 'ceska lipa'."""
    decomposed = unicodedata.normalize("NFD", (text or "").casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _letters(text: str) -> list[tuple[str, str]]:
    """(primary letter, the letter as written, lower case) pairs."""
    out: list[tuple[str, str]] = []
    lower = unicodedata.normalize("NFC", text.casefold())
    i = 0
    while i < len(lower):
        c = lower[i]
        if c == "c" and lower[i + 1 : i + 2] == "h":
            out.append(("ch", "ch"))
            i += 2
            continue
        base = c if c in _OWN_LETTERS else fold(c) or c
        out.append((base, c))
        i += 1
    return out


def sort_key(text: str | None) -> tuple[Any, ...]:
    """A key giving Czech alphabetical order: letters first (Ch after H, Č after C, Š after
    S, Ž after Z), then accents (Rádlo before Radnice only by its letters), then case."""
    letters = _letters(text or "")
    # Spaces, punctuation and digits sort before letters (as in ICU), among themselves by code.
    primary = tuple((_PRIMARY.get(p, 0), "" if p in _PRIMARY else p) for p, _ in letters)
    secondary = tuple(written for _, written in letters)
    tertiary = (text or "").swapcase()  # lower case first, as ICU
    return (primary, secondary, tertiary)


def compare(a: str | None, b: str | None) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def register_sqlite_collation(dbapi_connection: Any) -> None:
    dbapi_connection.create_collation(COLLATION, compare)


def czech(column: Any) -> ColumnElement[Any]:
    """``column COLLATE "cs-CZ-x-icu"``: for ORDER BY on either database."""
    return column.collate(COLLATION)
