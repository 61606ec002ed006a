"""A region's brand as plain values (app.regions.branding finds the one a page wears)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from app.models import Region

DEFAULT_COLOUR = "#2362a2"


@dataclass(frozen=True)
class Brand:
    slug: str | None  # None: the national portal
    name: str = ""
    name_genitive: str = ""
    operator_name: str = ""
    contact_email: str | None = None
    contact_phone: str | None = None
    web_url: str | None = None
    footer_text: str = ""
    logo_url: str | None = None
    primary_color: str = DEFAULT_COLOUR
    key: str = field(default="national")  # names the cached page chrome

    @property
    def is_national(self) -> bool:
        return self.slug is None

    @property
    def footer(self) -> str:
        """The footer text in the page's language when the catalogue knows it (the Liberec
        Region's has always been translated), else as the operator wrote it."""
        from flask_babel import gettext

        return gettext(self.footer_text) if self.footer_text else ""

    @property
    def custom_colour(self) -> bool:
        return self.primary_color.lower() != DEFAULT_COLOUR


NATIONAL = Brand(slug=None)


def brand_of(region: Region) -> Brand:
    values: dict[str, Any] = {
        "slug": region.slug,
        "name": region.name,
        "name_genitive": region.name_genitive or region.name,
        "operator_name": region.operator_name or "",
        "contact_email": region.contact_email,
        "contact_phone": region.contact_phone,
        "web_url": region.web_url,
        "footer_text": region.footer_text or "",
        "logo_url": region.logo_url,
        "primary_color": region.primary_color or DEFAULT_COLOUR,
    }
    digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:12]
    return Brand(**values, key=f"{region.slug}:{digest}")


__all__ = ["DEFAULT_COLOUR", "NATIONAL", "Brand", "brand_of"]
