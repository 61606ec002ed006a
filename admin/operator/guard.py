"""Who may open the operator's pages.

With the admin area (branch ``admin``: staff accounts with TOTP) present, this is its
``staff_required(StaffRole.OPERATOR)``. Without it, a placeholder: HTTP Basic auth
against the ``OPERATOR_BASIC_AUTH`` config key ("user:password"); unset → nobody.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

F = TypeVar("F", bound=Callable[..., Any])


def _admin_guard() -> Callable[[F], F] | None:
    try:
        from admin.guards import staff_required  # type: ignore[import-not-found]
    except ImportError:
        return None
    from app.models import StaffRole  # type: ignore[attr-defined]

    return cast(Callable[[F], F], staff_required(StaffRole.OPERATOR))


def _placeholder(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        expected = current_app.config.get("OPERATOR_BASIC_AUTH") or ""
        auth = request.authorization
        given = f"{auth.username}:{auth.password}" if auth and auth.type == "basic" else ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(
                "Přihlaste se jako pracovník provozovatele.", 401,
                {"WWW-Authenticate": 'Basic realm="Provozovatel", charset="UTF-8"'},
            )
        return view(*args, **kwargs)

    return cast(F, wrapped)


def operator_required(view: F) -> F:
    guard = _admin_guard()
    return guard(view) if guard is not None else _placeholder(view)


def current_actor() -> Any:
    """The staff member acting (for the history), or None under the placeholder."""
    if _admin_guard() is None:
        return None
    from flask_login import current_user

    return current_user._get_current_object() if getattr(current_user, "is_authenticated", False) else None


def invite_first_admin(municipality_id: int, email: str, name: str) -> str | None:
    """Invite the municipality's first admin when the admin area offers invitations.
    Returns None when done, else why not (shown to the operator)."""
    try:
        from app.services.staff import StaffError, invite_staff  # type: ignore[import-not-found]
    except ImportError:
        return "Pozvánky správců zatím portál nenabízí; pozvěte správce později v části Tým."
    from app.models import StaffRole  # type: ignore[attr-defined]

    actor = current_actor()
    if actor is None:
        return "Pozvánku může poslat jen přihlášený pracovník provozovatele."
    try:
        invite_staff(actor, email, StaffRole.MUNICIPALITY_ADMIN, municipality_id, name=name)
    except StaffError as exc:
        return str(exc)
    return None


def invitations_available() -> bool:
    try:
        from app.services.staff import invite_staff  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True
