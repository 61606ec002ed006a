"""How the public pages present themselves: the region's name, logo, colour and footer
(the operator and the contact), or the national portal's where no region applies.

A page is branded by its municipality's region; any other page by the region its host
name is mapped to (``Region.host``, or the ``REGION_HOSTS`` setting), else nationally.
Brands are plain frozen values kept per process for ``CATALOG_CACHE_SECONDS`` and
dropped with the catalogue whenever a region, a municipality or a service changes."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import select

from app.catalog import cache as catalog_cache
from app.db import db_session
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


def _brand_of(region: Region) -> Brand:
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


def _store() -> dict[Any, tuple[float, int, Any]]:
    return current_app.extensions.setdefault("region_brands", {})  # type: ignore[no-any-return]


def _cached(key: Any, load: Any) -> Any:
    ttl = float(current_app.config.get("CATALOG_CACHE_SECONDS", 0) or 0)
    store = _store()
    now, version = time.monotonic(), catalog_cache.version()
    hit = store.get(key)
    if hit is not None and hit[0] > now and hit[1] == version:
        return hit[2]
    value = load()
    if ttl > 0:
        if len(store) > 1000:
            store.clear()
        store[key] = (now + ttl, version, value)
    return value


def brand_for_region(region_id: int | None) -> Brand:
    if region_id is None:
        return NATIONAL

    def load() -> Brand:
        region = db_session.get(Region, region_id)
        return _brand_of(region) if region is not None else NATIONAL

    return _cached(("region", region_id), load)  # type: ignore[no-any-return]


def configured_hosts() -> dict[str, str]:
    """REGION_HOSTS: {host: region slug}; from the environment as "host=slug,host=slug"."""
    raw = current_app.config.get("REGION_HOSTS") or {}
    if isinstance(raw, str):
        pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
        raw = {h.strip().lower(): s.strip() for h, s in pairs if h.strip() and s.strip()}
    return {str(h).lower(): str(s) for h, s in dict(raw).items()}


def region_id_for_host(host: str) -> int | None:
    """The region a host name is mapped to (its own ``Region.host``, else REGION_HOSTS)."""
    host = host.split(":", 1)[0].strip().lower()[:253]
    if not host:
        return None

    def load() -> int | None:
        rid = db_session.scalar(select(Region.id).where(Region.host == host))
        if rid is None and (slug := configured_hosts().get(host)):
            rid = db_session.scalar(select(Region.id).where(Region.slug == slug))
        return rid

    return _cached(("host", host), load)  # type: ignore[no-any-return]


def host_region_id() -> int | None:
    return region_id_for_host(request.host) if has_request_context() else None


def current_brand(municipality: Any = None, payment: Any = None, region_id: int | None = None) -> Brand:
    """The brand of a page: its region (a region's home), its municipality's (or its
    payment's municipality's) region, else the host's region, else the national portal."""
    if region_id is None:
        region_id = getattr(municipality, "region_id", None)
    if region_id is None and payment is not None:
        m = getattr(payment, "municipality", None)
        region_id = getattr(m, "region_id", None)
    if region_id is None:
        region_id = host_region_id()
    return brand_for_region(region_id)


__all__ = ["NATIONAL", "Brand", "brand_for_region", "current_brand", "host_region_id", "region_id_for_host"]
