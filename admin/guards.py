"""Guards of the admin area (CTFd's utils/decorators, scoped to a municipality).

- ``@staff_required(role=...)``: anonymous → redirect to the login; a lesser role → 403.
- ``scoped(stmt, Model)``: limit a list query to the municipality in view (the staff
  member's own; the operator's chosen one, or all).
- ``scoped_get_or_404(Model, **criteria)``: one object of the user's municipality, else
  404 — another municipality's object is indistinguishable from a missing one.
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

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
OPERATOR_SCOPE_KEY = "admin_municipality_id"
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


def current_municipality_id() -> int | None:
    """The municipality in view: the staff member's own, or for the operator the one
    they picked (None = all)."""
    user = current_staff
    if not user.is_operator:
        return user.municipality_id
    mid = session.get(OPERATOR_SCOPE_KEY)
    return int(mid) if isinstance(mid, int) else None


def current_municipality() -> Municipality | None:
    mid = current_municipality_id()
    return db_session.get(Municipality, mid) if mid is not None else None


def _scope_column(model: type[Any]) -> Any:
    return model.id if model is Municipality else model.municipality_id


def scoped(stmt: Select[Any], model: type[Any]) -> Select[Any]:
    """Limit a list query to the municipality in view."""
    mid = current_municipality_id()
    return stmt if mid is None else stmt.where(_scope_column(model) == mid)


def scoped_get_or_404(model: type[T], **criteria: Any) -> T:
    """One object by ``criteria`` within the user's municipality (any, for the
    operator); 404 otherwise."""
    if any((isinstance(v, int) and not 0 < v < 2**31) or (isinstance(v, str) and ("\x00" in v or len(v) > 64))
           for v in criteria.values()):
        abort(404)  # a crafted id no real object has (the database would refuse some)
    stmt = select(model).filter_by(**criteria)
    if not current_staff.is_operator:
        stmt = stmt.where(_scope_column(model) == current_staff.municipality_id)
    obj = db_session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj
