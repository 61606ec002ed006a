"""The public catalogue: an active municipality and its active services, as plain
immutable data, cached per process for a few seconds (``CATALOG_CACHE_SECONDS``).

The municipality page and the pay form (GET) read it instead of the database. It is a
read-through cache: a miss or an expired entry loads the municipality again in one
query. Correctness rules:

- Any ORM commit that adds, changes or deletes a Service or a Municipality clears the
  cache of *this* process at once (a session listener below). Other processes (the other
  gunicorn workers) see the change when their entry expires: a service deactivated by a
  clerk disappears from every page within ``CATALOG_CACHE_SECONDS``.
- Nothing that writes trusts it: the pay form's POST, the lookup and ``create_payment``
  load the service from the database and check that it is active.
- ``CATALOG_CACHE_SECONDS = 0`` turns it off (every call queries; the tests' default).

``version()`` changes on every invalidation. Rendered fragments built from an entry
(``{% fragment catalog, … %}``, app/fragments.py) are stored on the entry, keyed by locale,
so they expire and are invalidated with it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, contains_eager, object_session

from app.czech import czech
from app.db import autocommit_reads, db_session
from app.models import Municipality, OnboardingState, Region, Service
from app.regions.brand import Brand, brand_of

MAX_ENTRIES = 2048  # far above the region's 215 municipalities; a bound against slug floods


@dataclass(frozen=True, slots=True)
class CatalogMunicipality:
    id: int
    slug: str
    name: str
    ico: str
    district: str | None
    demo_mode: bool
    iban: str | None
    region_id: int | None = None
    brand: Brand | None = None  # its region's, loaded with it (app.regions.branding)


@dataclass(frozen=True, slots=True)
class CatalogService:
    """What the citizen pages show of a service (attribute names as on the model, so
    templates and ``transfer_for_service`` take either)."""

    id: int
    slug: str
    name: str
    description: str
    amount_mode: str
    amount: int | None
    amount_min: int | None
    amount_max: int | None
    vs_rule: str
    variable_symbol: str | None
    constant_symbol: str | None
    lookup_mode: str
    amount_match: str
    iban: str | None  # the service's own account, if any (app.qr.account_for)
    municipality: CatalogMunicipality


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    municipality: CatalogMunicipality
    services: tuple[CatalogService, ...]  # active ones, by name
    by_slug: Mapping[str, CatalogService]
    version: int  # the catalogue version it was loaded under
    # Rendered pieces of the citizen pages built from this entry ({% fragment %},
    # app/fragments.py): they expire with it.
    fragments: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def service(self, slug: str) -> CatalogService | None:
        return self.by_slug.get(slug)


_lock = threading.Lock()
_version = 0  # of the whole process: entries loaded under an older one are not served


def _entries() -> dict[str, tuple[float, CatalogEntry]]:
    """This application's entries: slug -> (expires at on the monotonic clock, entry)."""
    from flask import current_app

    return current_app.extensions.setdefault("catalog_entries", {})  # type: ignore[no-any-return]


def version() -> int:
    return _version


def invalidate() -> None:
    """Forget every cached entry (and with them their fragments) of this process."""
    global _version
    from flask import has_app_context

    with _lock:
        _version += 1
        if has_app_context():
            _entries().clear()  # the other applications' entries are stale by their version


def _ttl() -> float:
    from flask import current_app

    return float(current_app.config.get("CATALOG_CACHE_SECONDS", 0) or 0)


def _load(slug: str, *, read_only: bool) -> CatalogEntry | None:
    if read_only:
        autocommit_reads()
    loaded_under = _version
    # One round trip: the municipality with its active services (none → one row with None).
    rows = db_session.execute(
        select(Municipality, Service)
        .options(contains_eager(Municipality.region))
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(Service, (Service.municipality_id == Municipality.id) & Service.active.is_(True))
        .where(Municipality.slug == slug, Municipality.onboarding_state == OnboardingState.ACTIVE)
        .order_by(czech(Service.name))
    ).all()
    if not rows:
        return None
    m = rows[0][0]
    cm = CatalogMunicipality(
        id=m.id, slug=m.slug, name=m.name, ico=m.ico, district=m.district, demo_mode=bool(m.demo_mode), iban=m.iban,
        region_id=m.region_id, brand=brand_of(m.region),
    )
    services = tuple(
        CatalogService(
            id=s.id,
            slug=s.slug,
            name=s.name,
            description=s.description or "",
            amount_mode=str(s.amount_mode),
            amount=s.amount,
            amount_min=s.amount_min,
            amount_max=s.amount_max,
            vs_rule=str(s.vs_rule),
            variable_symbol=s.variable_symbol,
            constant_symbol=s.constant_symbol,
            lookup_mode=str(s.lookup_mode),
            amount_match=str(s.amount_match),
            iban=s.iban,
            municipality=cm,
        )
        for _, s in rows
        if s is not None
    )
    return CatalogEntry(cm, services, MappingProxyType({s.slug: s for s in services}), loaded_under)


def municipality_catalog(slug: str, *, read_only: bool = True) -> CatalogEntry | None:
    """The active municipality ``slug`` with its active services, or None.

    ``read_only``: a miss reads in autocommit (for GET views that never write)."""
    ttl = _ttl()
    if ttl <= 0:
        return _load(slug, read_only=read_only)
    now = time.monotonic()
    entries = _entries()
    hit = entries.get(slug)
    if hit is not None and hit[0] > now and hit[1].version == _version:
        return hit[1]
    entry = _load(slug, read_only=read_only)
    if entry is None:
        return None  # unknown slugs are not cached: they cannot fill the memory
    with _lock:
        if entry.version == _version:  # not invalidated while it was loading
            if len(entries) >= MAX_ENTRIES:
                entries.clear()
            entries[slug] = (now + ttl, entry)
    return entry


# Clear the cache when this process commits a change to the catalogue (any session, not
# only db_session). The flag is set when a Service or Municipality row is written and acted
# on at commit (a rolled-back change changes nothing).
_FLAG = "portal.catalog_changed"


def _note_catalog_change(_mapper, _connection, target) -> None:  # type: ignore[no-untyped-def]
    session = object_session(target)
    if session is not None:
        session.info[_FLAG] = True


for _cls in (Service, Municipality, Region):
    for _name in ("after_insert", "after_update", "after_delete"):
        event.listen(_cls, _name, _note_catalog_change)


@event.listens_for(Session, "after_commit")
def _invalidate_on_commit(session) -> None:  # type: ignore[no-untyped-def]
    if session.info.pop(_FLAG, False):
        invalidate()


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session, transaction) -> None:  # type: ignore[no-untyped-def]
    if transaction.parent is None:  # the outermost one ended without a commit (a commit popped it)
        session.info.pop(_FLAG, None)


def entry_etag(entry: CatalogEntry) -> str:
    """A digest of what the entry holds (the municipality and its services), computed
    once per entry: equal in every worker for equal data, so it can validate HTTP caches."""
    digest = entry.fragments.get(("etag",))
    if digest is None:
        text = repr((entry.municipality, entry.services))
        digest = entry.fragments[("etag",)] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return digest
