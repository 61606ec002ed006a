"""Regions: the fourteen Czech regions (app/data/regions.csv) and the one a deployment
starts with (``DEFAULT_REGION``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.region import Region

_CSV = Path(__file__).resolve().parent.parent / "data" / "regions.csv"

# What the Liberec Region's portal has always shown (the agency that runs it today).
HOME_REGION_DEFAULTS = {
    "liberecky-kraj": {
        "operator_name": "Agentura regionálního rozvoje Libereckého kraje",
        "footer_text": "Provozuje Agentura regionálního rozvoje Libereckého kraje.",
    }
}


@cache
def czech_regions() -> dict[str, dict[str, str]]:
    """The 14 regions by slug: nuts_code, slug, name, name_genitive, name_en."""
    with _CSV.open(encoding="utf-8") as f:
        return {row["slug"]: row for row in csv.DictReader(f)}


def region_display(slug: str | None, name: str) -> str:
    """A region's name in the request's language: the Czech name, or in any other
    language its English name from app/data/regions.csv (ASCII, as the regions' own
    English pages write them without diacritics where they can)."""
    if slug and has_app_context():
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None and locale.language != "cs":
            return czech_regions().get(slug, {}).get("name_en") or name
    return name


def default_slug() -> str:
    if has_app_context():
        return str(current_app.config.get("DEFAULT_REGION") or "liberecky-kraj")
    return "liberecky-kraj"


def get_or_create_region(session: Session, slug: str | None = None) -> Region:
    """The region of that slug (the deployment's default when None), created from the
    list of Czech regions the first time it is needed."""
    slug = slug or default_slug()
    region = session.scalar(select(Region).where(Region.slug == slug))
    if region is not None:
        return region
    row = czech_regions().get(slug)
    if row is None:
        raise LookupError(f"unknown region {slug!r}")
    region = Region(
        slug=slug,
        name=row["name"],
        name_genitive=row["name_genitive"],
        nuts_code=row["nuts_code"],
        **HOME_REGION_DEFAULTS.get(slug, {}),
    )
    session.add(region)
    session.flush()
    return region


@dataclass(frozen=True)
class RegionLabel:
    """How a report or a document names its region (plain values, no ORM object)."""

    id: int
    slug: str
    name: str
    name_genitive: str
    operator_name: str


def region_label(session: Session, region_id: int | None) -> RegionLabel | None:
    region = session.get(Region, region_id) if region_id is not None else None
    if region is None:
        return None
    return RegionLabel(region.id, region.slug, region.name, region.name_genitive or region.name,
                       region.operator_name or "")


__all__ = ["RegionLabel", "czech_regions", "default_slug", "get_or_create_region", "region_display", "region_label"]
