"""How the public pages present themselves: the region's name, logo, colour and footer
(the operator and the contact), or the national portal's where no region applies.

A page is branded by its municipality's region; any other page by the region its host
name is mapped to (``Region.host``, or the ``REGION_HOSTS`` setting), else nationally.
Brands are plain frozen values kept per process for ``CATALOG_CACHE_SECONDS`` and
dropped with the catalogue whenever a region, a municipality or a service changes."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import select

from app.catalog import cache as catalog_cache
from app.db import SessionFactory
from app.models import Region
from app.regions.brand import NATIONAL, Brand, brand_of


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


def catalog_cached(key: Any, load: Any) -> Any:
    """``load()``, kept in this process for ``CATALOG_CACHE_SECONDS`` and dropped when the
    catalogue changes (like the municipality pages)."""
    return _cached(key, load)


def brand_for_region(region_id: int | None) -> Brand:
    if region_id is None:
        return NATIONAL

    def load() -> Brand:
        # Its own short session: a receipt's e-mail is rendered after its commit, when the
        # request's session may emit no more SQL.
        with SessionFactory() as session:
            region = session.get(Region, region_id)
            return brand_of(region) if region is not None else NATIONAL

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
        with SessionFactory() as session:
            rid = session.scalar(select(Region.id).where(Region.host == host))
            if rid is None and (slug := configured_hosts().get(host)):
                rid = session.scalar(select(Region.id).where(Region.slug == slug))
            return rid

    return _cached(("host", host), load)  # type: ignore[no-any-return]


def host_region_id() -> int | None:
    return region_id_for_host(request.host) if has_request_context() else None


def _loaded_region(municipality: Any) -> Region | None:
    """An ORM municipality's region when it was loaded with it (no lazy load)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import NoInspectionAvailable

    try:
        state = inspect(municipality)
    except NoInspectionAvailable:
        return None
    if "region" in state.unloaded:
        return None
    return municipality.region  # type: ignore[no-any-return]


def current_brand(
    municipality: Any = None, payment: Any = None, region_id: int | None = None, page_brand: Brand | None = None
) -> Brand:
    """The brand of a page: the one its view chose, its region (a region's home), its
    municipality's (or its payment's municipality's) region, else the host's region, else
    the national portal. A catalogue entry's and a municipality loaded with its region
    cost no statement."""
    if isinstance(page_brand, Brand):
        return page_brand
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        return _brand_of_page(municipality, payment, region_id)
    except (OperationalError, InterfaceError):
        # The database is away: the error page that says so still renders, unbranded.
        return NATIONAL


def _brand_of_page(municipality: Any, payment: Any, region_id: int | None) -> Brand:
    if region_id is None:
        brand = getattr(municipality, "brand", None)
        if isinstance(brand, Brand):
            return brand
        region = _loaded_region(municipality)
        if region is not None:
            return brand_of(region)
        region_id = getattr(municipality, "region_id", None)
    if region_id is None and payment is not None:
        m = getattr(payment, "municipality", None)
        region_id = getattr(m, "region_id", None)
    if region_id is None:
        region_id = host_region_id()
    return brand_for_region(region_id)


__all__ = ["NATIONAL", "Brand", "brand_for_region", "catalog_cached", "current_brand", "host_region_id", "region_id_for_host"]
