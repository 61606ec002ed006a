"""API keys of the municipality for its agenda systems: create (the secret is shown
once), list with last use, revoke. Every change is audited."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.guards import current_municipality_id, current_staff, scoped, scoped_get_or_404, staff_required
from app.api.keys import ApiKeyError, create_api_key, revoke_api_key
from app.db import db_session
from app.models import API_SCOPES, ApiKey, StaffRole
from app.staff.audit import audit
from app.timeutil import prague_midnight_utc


def _keys() -> list[ApiKey]:
    return list(db_session.scalars(scoped(select(ApiKey), ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))


def _error_text(code: str) -> str:
    return {
        "name": _("Zadejte název klíče (nejvýše 100 znaků)."),
        "scopes": _("Vyberte alespoň jedno oprávnění."),
        "expiry": _("Platnost musí skončit v budoucnu."),
    }.get(code, code)


@bp.route("/api-klice", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def api_keys():  # type: ignore[no-untyped-def]
    mid = current_municipality_id()
    secret = None
    errors: list[str] = []
    if request.method == "POST":
        if mid is None:
            abort(400, _("Nejdřív vyberte obec."))
        expires_at: datetime | None = None
        raw = (request.form.get("expires_on") or "").strip()
        if raw:
            try:
                expires_at = prague_midnight_utc(date.fromisoformat(raw))
            except ValueError:
                errors.append(_("Datum zadejte ve tvaru RRRR-MM-DD."))
        if not errors:
            try:
                key, secret = create_api_key(
                    mid,
                    request.form.get("name", ""),
                    request.form.getlist("scopes"),
                    expires_at=expires_at,
                    created_by=current_staff.email,
                )
            except ApiKeyError as exc:
                db_session.rollback()
                errors.append(_error_text(exc.code))
            else:
                audit(
                    "api_key_create",
                    key,
                    after={"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "expires_at": key.expires_at},
                    commit=False,
                )
                db_session.commit()
                flash(_("Klíč byl vytvořen. Zkopírujte si jej teď: znovu už zobrazen nebude."), "success")
    status = 422 if errors else 200
    return render_template(
        "admin/api_keys.html",
        keys=_keys(),
        secret=secret,
        errors=errors,
        scopes=API_SCOPES,
        can_create=mid is not None,
        midnight=time(0),
    ), status


@bp.post("/api-klice/<int:key_id>/zrusit")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def api_key_revoke(key_id: int):  # type: ignore[no-untyped-def]
    key = scoped_get_or_404(ApiKey, id=key_id)
    if key.revoked_at is None:
        revoke_api_key(key)
        audit("api_key_revoke", key, after={"prefix": key.prefix}, commit=False)
        db_session.commit()
        flash(_("Klíč %(p)s byl zrušen.", p=key.prefix), "success")
    return redirect(url_for("admin.api_keys"), code=303)
