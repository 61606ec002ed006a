"""Staff login: e-mail and password → TOTP (enrolment with a QR code at first login) →
the admin area. Invitations, password reset, logout."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from admin import bp
from admin.forms import AcceptInvitationForm, ActionForm, ForgotPasswordForm, LoginForm, SetPasswordForm, TotpForm
from admin.guards import SEEN_KEY, staff_required
from app.db import db_session
from app.extensions import limiter
from app.models import StaffUser
from app.staff import accounts as staff_service
from app.staff import invitations
from app.staff.audit import audit
from app.validation import safe_local_path

PENDING_KEY = "admin_pending_2fa"
PENDING_SECONDS = 300


def _login_limit() -> str:
    return current_app.config.get("ADMIN_LOGIN_RATE_LIMIT", "10 per minute")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and safe_local_path(target) and "//" not in target:
        return target
    return url_for("admin.dashboard")


def _pending_user() -> StaffUser | None:
    """The staff member who passed the password step in the last few minutes."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if datetime.now(UTC).timestamp() - float(data.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db_session.get(StaffUser, int(data.get("id", 0)))
    if user is None or not user.active or staff_service.is_locked(user):
        return None
    return user


def _finish_login(user: StaffUser) -> object:
    next_url = session.get(PENDING_KEY, {}).get("next")
    session.clear()  # a new session: no fixation
    staff_service.complete_login(user)
    login_user(user)
    session.permanent = True
    session[SEEN_KEY] = datetime.now(UTC).timestamp()
    return redirect(_safe_next(next_url), code=303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    if getattr(current_user, "is_authenticated", False):
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    error = None
    if request.args.get("expired"):
        error = _("Byli jste odhlášeni po delší nečinnosti. Přihlaste se znovu.")
    if form.validate_on_submit():
        try:
            user = staff_service.authenticate(form.email.data or "", form.password.data or "")
        except staff_service.StaffError as exc:
            error = exc.message
        else:
            session[PENDING_KEY] = {"id": user.id, "at": datetime.now(UTC).timestamp(), "next": request.args.get("next")}
            target = "admin.login_totp" if user.totp_enabled else "admin.enrol_totp"
            return redirect(url_for(target), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form, error=error), status


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_totp():  # type: ignore[no-untyped-def]
    user = _pending_user()
    if user is None or not user.totp_enabled:
        return redirect(url_for("admin.login"))
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        if staff_service.verify_totp(user, form.code.data or ""):
            return _finish_login(user)
        staff_service.register_failure(user, what="totp")
        error = _("Kód nesouhlasí nebo už byl použit. Zadejte aktuální kód z aplikace.")
        if staff_service.is_locked(user):
            session.pop(PENDING_KEY, None)
            flash(_("Účet je po opakovaných neúspěšných pokusech dočasně zablokován."), "error")
            return redirect(url_for("admin.login"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/totp.html", form=form, error=error), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def enrol_totp():  # type: ignore[no-untyped-def]
    user = _pending_user()
    if user is None or user.totp_enabled:
        return redirect(url_for("admin.login"))
    pending = session[PENDING_KEY]
    secret = pending.get("secret")
    if not secret:
        secret = staff_service.new_totp_secret()
        pending["secret"] = secret
        session[PENDING_KEY] = pending
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        if staff_service.enable_totp(user, secret, form.code.data or ""):
            return _finish_login(user)
        error = _("Kód nesouhlasí. Zkontrolujte, že jste naskenovali tento QR kód, a zadejte aktuální kód.")
    uri = staff_service.provisioning_uri(user, secret)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/enrol.html", form=form, error=error, secret=secret,
                           qr=staff_service.qr_svg(uri)), status


@bp.post("/logout")
@staff_required()
def logout():  # type: ignore[no-untyped-def]
    if ActionForm().validate_on_submit():
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        # Ends every copy of this session, not only the cookie this browser drops.
        staff_service.end_sessions(user)
        audit("logout", user)
        logout_user()
        session.clear()
        flash(_("Byli jste odhlášeni."), "success")
    return redirect(url_for("admin.login"), code=303)


@bp.route("/pozvanka/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        invitation = invitations.find_invitation(token)
    except staff_service.StaffError as exc:
        return render_template("admin/message.html", title=_("Pozvánka neplatí"), message=exc.message), 410
    form = AcceptInvitationForm(name=invitation.name or None)
    error = None
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(token, form.name.data or "", form.password.data or "")
        except staff_service.StaffError as exc:
            error = exc.message
        else:
            db_session.commit()
            session.clear()
            session[PENDING_KEY] = {"id": user.id, "at": datetime.now(UTC).timestamp()}
            return redirect(url_for("admin.enrol_totp"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/accept_invitation.html", form=form, invitation=invitation, error=error), status


@bp.route("/heslo/zapomenute", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        invitations.request_password_reset(form.email.data or "")
        return render_template("admin/message.html", title=_("Zkontrolujte e-mail"), message=_(
            "Pokud k zadané adrese existuje účet, poslali jsme na ni odkaz pro nastavení nového hesla."))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/forgot.html", form=form), status


@bp.route("/heslo/obnova/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    try:
        invitations.find_reset(token)
    except staff_service.StaffError as exc:
        return render_template("admin/message.html", title=_("Odkaz neplatí"), message=exc.message), 410
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            invitations.reset_password(token, form.password.data or "")
        except staff_service.StaffError as exc:
            error = exc.message
        else:
            db_session.commit()
            flash(_("Heslo bylo změněno. Přihlaste se."), "success")
            return redirect(url_for("admin.login"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/reset.html", form=form, error=error), status
