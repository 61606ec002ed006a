"""Guards of the admin area (CTFd's utils/decorators, scoped to a municipality).

- ``@staff_required(role=...)``: anonymous → redirect to the login; a lesser role → 403.
- ``scoped(stmt, Model)``: limit a list query to the municipality in view (the staff
  member's own; the operator's chosen one, or all of the operator's region; for national
  staff the chosen region, or every region).
- ``scoped_get_or_404(Model, **criteria)``: one object of the user's municipality (an
  operator: of their region), else 404 — another municipality's or region's object is
  indistinguishable from a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import Select, select

from app.db import db_session
from app.models import ROLE_RANK, Municipality, StaffRole, StaffUser
from app.regions.scope import municipality_in_region, region_condition

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
OPERATOR_SCOPE_KEY = "admin_municipality_id"
NATIONAL_SCOPE_KEY = "admin_region_id"
SEEN_KEY = "admin_seen"

current_staff = cast(StaffUser, current_user)


def _idle_expired() -> bool:
    seen = session.get(SEEN_KEY)
    limit = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    now = datetime.now(UTC).timestamp()
    if seen is not None and now - float(seen) > limit:
        return True
    session[SEEN_KEY] = now
    session.permanent = True
    return False


def staff_required(role: str = StaffRole.VIEWER) -> Callable[[F], F]:
    """Require a logged-in staff member with at least ``role``."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user
            if not getattr(user, "is_authenticated", False) or not isinstance(
                user._get_current_object(), StaffUser  # type: ignore[attr-defined]
            ):
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
            if _idle_expired():
                logout_user()
                session.clear()
                return redirect(url_for("admin.login", expired=1))
            if not user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def current_region_id() -> int | None:
    """The region in view: an operator's own; for national staff the one they picked
    (None = every region). Municipality staff are held by their municipality instead."""
    user = current_staff
    if user.is_national:
        rid = session.get(NATIONAL_SCOPE_KEY)
        return int(rid) if isinstance(rid, int) else None
    if user.is_operator:
        # An operator without a region sees nothing rather than everything.
        return user.region_id if user.region_id is not None else 0
    return None


def current_municipality_id() -> int | None:
    """The municipality in view: the staff member's own, or for the operator the one
    they picked (None = all of the region in view)."""
    user = current_staff
    if not user.is_operator:
        return user.municipality_id
    mid = session.get(OPERATOR_SCOPE_KEY)
    if not isinstance(mid, int):
        return None
    # A choice made before the region in view changed no longer holds.
    rid = current_region_id()
    if rid is not None and not municipality_in_region(db_session.get(Municipality, mid), rid):
        return None
    return int(mid)


def current_municipality() -> Municipality | None:
    mid = current_municipality_id()
    return db_session.get(Municipality, mid) if mid is not None else None


def _scope_column(model: type[Any]) -> Any:
    return model.id if model is Municipality else model.municipality_id


def scoped(stmt: Select[Any], model: type[Any]) -> Select[Any]:
    """Limit a list query to the municipality in view, else to the region in view."""
    mid = current_municipality_id()
    if mid is not None:
        return stmt.where(_scope_column(model) == mid)
    rid = current_region_id()
    return stmt if rid is None else stmt.where(region_condition(model, rid))


def operator_municipality_or_404(mid: int) -> Municipality:
    """A municipality of the operator's region (any, for national staff); 404 otherwise."""
    if not 0 < mid < 2**31:
        abort(404)
    m = db_session.get(Municipality, mid)
    if m is None or not (current_staff.is_national or m.region_id == current_staff.region_id):
        abort(404)
    return m


def scoped_get_or_404(model: type[T], **criteria: Any) -> T:
    """One object by ``criteria`` within the user's municipality (any of their region,
    for the operator; any, for national staff); 404 otherwise."""
    if any((isinstance(v, int) and not 0 < v < 2**31) or (isinstance(v, str) and ("\x00" in v or len(v) > 64))
           for v in criteria.values()):
        abort(404)  # a crafted id no real object has (the database would refuse some)
    stmt = select(model).filter_by(**criteria)
    if not current_staff.is_operator:
        stmt = stmt.where(_scope_column(model) == current_staff.municipality_id)
    elif not current_staff.is_national:
        stmt = stmt.where(region_condition(model, current_staff.region_id or 0))
    obj = db_session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj
