"""What a region's staff may see: conditions that limit a query to one region's
municipalities (None = every region, for national staff and the CLI)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from app.models import Municipality, StaffUser


def region_municipality_ids(region_id: int) -> Any:
    """A subquery of the region's municipality ids."""
    return select(Municipality.id).where(Municipality.region_id == region_id).scalar_subquery()


def in_region(municipality_column: Any, region_id: int | None) -> ColumnElement[bool]:
    """``municipality_column`` (a municipality id) belongs to the region (always, for None)."""
    if region_id is None:
        return true()
    return municipality_column.in_(region_municipality_ids(region_id))


def region_condition(model: type[Any], region_id: int | None) -> ColumnElement[bool]:
    """Rows of ``model`` that belong to the region: a municipality by its own region, a
    staff member by their municipality or (an operator) their region, anything else by
    its ``municipality_id``."""
    if region_id is None:
        return true()
    if model is Municipality:
        return Municipality.region_id == region_id
    if model is StaffUser:
        return or_(StaffUser.region_id == region_id, in_region(StaffUser.municipality_id, region_id))
    return in_region(model.municipality_id, region_id)


def municipality_in_region(municipality: Municipality | None, region_id: int | None) -> bool:
    return municipality is not None and (region_id is None or municipality.region_id == region_id)


__all__ = ["in_region", "municipality_in_region", "region_condition", "region_municipality_ids"]
