"""Public-sector duties served as pages: the accessibility statement (Act 99/2019 Sb.,
in the structure of vyhláška 515/2020 Sb. and the Ministry of the Interior's methodology)
and ``/.well-known/security.txt`` (RFC 9116).

The contacts and dates are settings of the operator (read from the app's config, else
the environment): ``ACCESSIBILITY_CONTACT_EMAIL``, ``ACCESSIBILITY_CONTACT_PHONE``,
``ACCESSIBILITY_ASSESSED_ON`` (the last assessment), ``ACCESSIBILITY_MANUAL_REVIEW_ON``
(empty: not done yet, and the statement says so), ``SECURITY_CONTACT``,
``SECURITY_TXT_EXPIRES``."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, current_app, redirect, render_template, url_for

from app.legal import bp

# When this statement's text was prepared (changes with the text, not with a setting).
STATEMENT_PREPARED_ON = date(2026, 12, 1)
SUPERVISORY_BODY = {
    "name": "Ministerstvo vnitra",
    "address": "Nad Štolou 936/3, 170 34 Praha 7",
    "email": "posta@mvcr.cz",
    "web": "https://www.mvcr.cz/",
}


def _setting(name: str, default: Any = None) -> Any:
    value = current_app.config.get(name)
    if value in (None, ""):
        value = os.environ.get(name) or default
    return value


def _date(name: str, default: date | None) -> date | None:
    value = _setting(name)
    if isinstance(value, date):
        return value
    if value:
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            # A mistyped setting must not take the page down: show the default instead.
            current_app.logger.warning("%s=%r is not a date (YYYY-MM-DD)", name, value)
    return default


def _format(d: date | None) -> str | None:
    return f"{d.day}. {d.month}. {d.year}" if d else None


@bp.get("/prohlaseni-o-pristupnosti")
def accessibility():  # type: ignore[no-untyped-def]
    return render_template(
        "legal/accessibility.html",
        site=current_app.config["BASE_URL"],
        contact_email=_setting("ACCESSIBILITY_CONTACT_EMAIL", current_app.config.get("MAIL_FROM")),
        contact_phone=_setting("ACCESSIBILITY_CONTACT_PHONE"),
        prepared_on=_format(STATEMENT_PREPARED_ON),
        assessed_on=_format(_date("ACCESSIBILITY_ASSESSED_ON", STATEMENT_PREPARED_ON)),
        manual_review_on=_format(_date("ACCESSIBILITY_MANUAL_REVIEW_ON", None)),
        supervisor=SUPERVISORY_BODY,
    )


@bp.get("/accessibility-statement")
def accessibility_en():  # type: ignore[no-untyped-def]
    return redirect(url_for("legal.accessibility", lang="en"), code=301)


@bp.get("/.well-known/security.txt")
def security_txt():  # type: ignore[no-untyped-def]
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    contact = _setting("SECURITY_CONTACT") or f"mailto:{current_app.config.get('MAIL_FROM')}"
    expires = _setting("SECURITY_TXT_EXPIRES")
    if not expires:
        # RFC 9116 asks for less than a year; a fixed date would silently go stale, so
        # without a setting it is always 180 days ahead (refreshed at each deployment).
        expires = (datetime.now(UTC) + timedelta(days=180)).replace(hour=0, minute=0, second=0, microsecond=0)
        expires = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires}",
        "Preferred-Languages: cs, en",
        f"Canonical: {base}/.well-known/security.txt",
        f"Policy: {_setting('SECURITY_POLICY_URL') or base + '/.well-known/security-policy.txt'}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/.well-known/security-policy.txt")
def security_policy():  # type: ignore[no-untyped-def]
    """SECURITY.md as plain text: how to report a vulnerability and what is in scope."""
    from flask import abort

    from app.config import ROOT

    path = ROOT / "SECURITY.md"
    if not path.is_file():
        abort(404)
    return Response(path.read_text(encoding="utf-8"), mimetype="text/plain")
