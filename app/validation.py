"""Checks every value from outside passes before it reaches the database or a file:
no control characters in text, dates in a sane range, and the forms' shared validator.

Control characters (ESC, NUL, BEL…) are never part of a name, an e-mail or a note: they
come from pasted text or from an attacker, and break exports (XLSX refuses them), bank
apps and terminals. Multi-line fields keep line breaks and tabs."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import ValidationError

# C0 controls, DEL and C1 controls; the line-separator pair breaks CSV and JS too.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

CONTROL_MESSAGE = _l(
    "Text obsahuje nepovolené řídicí znaky (např. Esc nebo tabulátor). Odstraňte je a zkuste to znovu."
)

# Days a payment, an audit entry or a filter can sensibly name: the portal did not exist
# before 2000, and dates past 2100 are typos (and 0001-01-01 or 9999-12-31 overflow the
# Prague/UTC conversion).
MIN_DAY = date(2000, 1, 1)
MAX_DAY = date(2100, 12, 31)


def has_control_characters(text: str | None, *, multiline: bool = False) -> bool:
    if not text:
        return False
    return bool((_CONTROL_MULTILINE if multiline else _CONTROL).search(text))


class NoControlCharacters:
    """WTForms validator: refuse control characters with a clear message."""

    def __init__(self, *, multiline: bool = False, message: Any = None):
        self.multiline = multiline
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data if isinstance(field.data, str) else None
        if has_control_characters(data, multiline=self.multiline):
            raise ValidationError(str(self.message or CONTROL_MESSAGE))


class CleanForm(FlaskForm):
    """A Flask-WTF form whose every text field refuses control characters (passwords
    are hashed, never shown or stored, and are left alone)."""

    def validate(self, extra_validators: dict[str, list[Any]] | None = None) -> bool:
        extra = {name: list(v) for name, v in (extra_validators or {}).items()}
        for name, fld in self._fields.items():
            if isinstance(fld, StringField) and not isinstance(fld, PasswordField):
                extra.setdefault(name, []).append(NoControlCharacters(multiline=isinstance(fld, TextAreaField)))
        return super().validate(extra)


class CitizenMeta:
    """Meta of the citizen pages' forms. The app's CSRFProtect checks every POST already
    (each template carries the token). Every message of these forms is ours, in the app's
    catalogue: WTForms' own catalogue would be read from disk on every request by
    Flask-WTF (on the hottest citizen page that doubled the CPU time)."""

    csrf = False

    def get_translations(self, form: Any) -> None:
        return None


class CitizenForm(CleanForm):
    """A citizen page's form: CleanForm's refusal of control characters, CitizenMeta.
    Each field's own validators run first, so ``first_errors`` shows their message. Views
    bind ``request.form`` explicitly (Flask-WTF would otherwise also read uploaded files
    and a JSON body into the fields)."""

    Meta = CitizenMeta

    def first_errors(self) -> dict[str, str]:
        """{field name: its first message} for the fields in error."""
        return {name: str(errors[0]) for name, errors in self.errors.items() if errors}


def clip(limit: int, *, strip: bool = True) -> Any:
    """A WTForms filter: the text (stripped unless ``strip`` is false) cut to ``limit``
    characters; a missing value stays None."""

    def clip_text(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return (value.strip() if strip else value)[:limit]

    return clip_text


class DayError(ValueError):
    """``code``: "format" (not YYYY-MM-DD) or "range" (outside MIN_DAY..MAX_DAY)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_day(text: str) -> date:
    """An ISO date from a form or a query string, within MIN_DAY..MAX_DAY, or DayError."""
    text = text.strip()
    if len(text) != 10:
        raise DayError("format")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DayError("format") from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise DayError("range")
    return day


def day_error_message(exc: DayError) -> str:
    from flask_babel import gettext as _

    if exc.code == "range":
        return _("Zadejte datum mezi %(first)s a %(last)s.", first=MIN_DAY.isoformat(), last=MAX_DAY.isoformat())
    return _("Datum zadejte ve tvaru RRRR-MM-DD.")


def clean_text(value: Any, max_length: int, *, multiline: bool = False) -> str | None:
    """``value`` as text fit for a column of ``max_length``: None when it is not a string,
    too long or holds control characters (the caller answers 400 or shows a form error)."""
    if not isinstance(value, str) or len(value) > max_length:
        return None
    if has_control_characters(value, multiline=multiline):
        return None
    return value


_ID_RE = re.compile(r"^[0-9]{1,10}$")


def parse_id(text: str | None) -> int | None:
    """A database id from a form or a query string: ASCII digits (``str.isdigit`` also
    takes "²", which ``int`` refuses) within PostgreSQL's integer range, else None."""
    text = (text or "").strip()
    if not _ID_RE.match(text):
        return None
    value = int(text)
    return value if 0 < value < 2**31 else None


def safe_local_path(value: str | None, *, max_length: int = 500) -> str | None:
    """``value`` when it is a path on this site (for ``next=`` redirects), else None.

    Browsers drop tabs and line breaks from URLs and read ``\\`` as ``/``, so
    ``/\\t/evil.example/`` and ``/\\evil.example`` would both leave the site as
    ``//evil.example``; the checks also run on the percent-decoded form, so
    ``/%09/evil.example/`` fails the same way."""
    from urllib.parse import unquote, urlsplit

    if not value or len(value) > max_length:
        return None
    forms = [value]
    for _ in range(3):  # double encoding as well
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    for text in forms:
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return None
        if has_control_characters(text) or any(ch.isspace() for ch in text):
            return None
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return None
    return value
