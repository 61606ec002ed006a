"""Marker for strings translated later, at render time (extracted by ``scripts/i18n`` via ``-k N_``),
and ``Text``: a message with its values, translated when shown."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Return ``message`` unchanged; babel extracts it into the catalogue."""
    return message


def language_switch_url(lang: str) -> str:
    """This page in ``lang``: the same path and query (a search, filters, a page of a
    list) with ``lang`` set, so switching the language keeps what the user was looking at."""
    from urllib.parse import urlencode

    from flask import request

    # ``next`` (where a login goes afterwards) is not echoed into the page.
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("lang", "next")]
    return "?" + urlencode([*pairs, ("lang", lang)])


class Text:
    """A message said later, in the reader's language: its Czech msgid (marked with ``N_``
    so babel extracts it) and its values. ``str()`` translates it for the current request.

    For texts that outlive the request that made them: an import's row errors are written
    by a job in Czech and read by a clerk who may have chosen English, so the report
    stores ``to_dict()`` and the page says it again with ``Text.from_dict``. A value may
    itself be a ``Text`` (a column's name) or a list of them (joined with ", ")."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        from flask_babel import gettext

        if not self.params:
            return gettext(self.msgid)
        return gettext(self.msgid, **{k: _said(v) for k, v in self.params.items()})

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.msgid, self.params) == (other.msgid, other.params)

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": {k: _stored(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> Text | None:
        """The stored form back; None for anything else (an older report's plain text)."""
        if not (isinstance(data, dict) and isinstance(data.get("msgid"), str) and isinstance(data.get("params"), dict)):
            return None
        return cls(data["msgid"], **{str(k): _loaded(v) for k, v in data["params"].items()})


def _said(value: Any) -> Any:
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, list):
        return ", ".join(str(_said(v)) for v in value)
    return value


def _stored(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_dict()
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value if isinstance(value, int | float | str) or value is None else str(value)


def _loaded(value: Any) -> Any:
    if isinstance(value, list):
        return [_loaded(v) for v in value]
    return Text.from_dict(value) or value if isinstance(value, dict) else value
