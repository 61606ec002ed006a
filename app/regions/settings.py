"""A region's own settings, edited by its operator: how its portal names itself, its
logo and colour, the footer (the operator and the contact) and the monthly report's
recipients. Validated here, saved with an audit row in the same transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.db import db_session
from app.mail import is_valid_email
from app.models import Region
from app.staff.audit import audit, snapshot

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2.1 AA for normal text: white text on the region's colour (header, buttons).
MIN_CONTRAST = 4.5
FIELDS = [
    "name_genitive",
    "operator_name",
    "contact_email",
    "contact_phone",
    "web_url",
    "footer_text",
    "logo_url",
    "primary_color",
    "report_recipients",
]
PHONE = re.compile(r"^\+?[0-9 ]{6,20}$")


@dataclass
class RegionSettings:
    name_genitive: str = ""
    operator_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    web_url: str = ""
    footer_text: str = ""
    logo_url: str = ""
    primary_color: str = ""
    report_recipients: str = ""


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour (the definition in the standard)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (relative_luminance(colour) + 0.05)


def _https_or_static(url: str) -> bool:
    if url.startswith("/static/") and ".." not in url:
        return True
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.netloc)


def validate_region_settings(data: RegionSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name_genitive.strip():
        errors["name_genitive"] = _("Vyplňte název kraje ve 2. pádě (obcí …).")
    if data.contact_email and not is_valid_email(data.contact_email):
        errors["contact_email"] = _("Zadejte platnou e-mailovou adresu.")
    if data.contact_phone and not PHONE.match(data.contact_phone):
        errors["contact_phone"] = _("Telefon zadejte číslicemi, např. +420 485 226 111.")
    if data.web_url and not (urlsplit(data.web_url).scheme == "https" and urlsplit(data.web_url).netloc):
        errors["web_url"] = _("Adresa webu musí začínat https://.")
    if data.logo_url and not _https_or_static(data.logo_url):
        errors["logo_url"] = _("Logo zadejte jako adresu https://… nebo cestu /static/….")
    if not HEX_COLOUR.match(data.primary_color):
        errors["primary_color"] = _("Barvu zadejte ve tvaru #rrggbb, např. #2362a2.")
    elif (ratio := contrast_with_white(data.primary_color)) < MIN_CONTRAST:
        errors["primary_color"] = _(
            "Bílý text na této barvě má kontrast jen %(r)s : 1; přístupnost vyžaduje aspoň 4,5 : 1. "
            "Zvolte tmavší odstín.",
            r=f"{ratio:.2f}".replace(".", ","),
        )
    bad = [e for e in _split(data.report_recipients) if not is_valid_email(e)]
    if bad:
        errors["report_recipients"] = _("Neplatná adresa příjemce: %(e)s.", e=bad[0][:100])
    return errors


def _split(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[,;\s]+", text or "") if e.strip()]


def settings_of(region: Region) -> RegionSettings:
    return RegionSettings(**{f: getattr(region, f) or "" for f in FIELDS})


def update_region_settings(region: Region, data: RegionSettings) -> dict[str, str]:
    """Validate and save; returns {field: message} and changes nothing when invalid.
    The audit row is written in the same transaction; the caller commits."""
    data = RegionSettings(**{f: (getattr(data, f) or "").strip() for f in FIELDS})
    data.primary_color = data.primary_color.lower()
    errors = validate_region_settings(data)
    if errors:
        return errors
    before = snapshot(region, FIELDS)
    region.name_genitive = data.name_genitive
    region.operator_name = data.operator_name
    region.contact_email = data.contact_email or None
    region.contact_phone = data.contact_phone or None
    region.web_url = data.web_url or None
    region.footer_text = data.footer_text
    region.logo_url = data.logo_url or None
    region.primary_color = data.primary_color
    region.report_recipients = ", ".join(_split(data.report_recipients))
    audit("region_settings", region, before=before, after=snapshot(region, FIELDS), commit=False)
    db_session.flush()
    return {}


__all__ = ["MIN_CONTRAST", "RegionSettings", "contrast_with_white", "settings_of", "update_region_settings"]
