"""Invitations and password resets: tokens sent by e-mail are stored only as their
SHA-256; the database never holds a usable link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.db import db_session, utcnow
from app.mail import MAIL_ERRORS, send_mail
from app.models import Municipality, PasswordReset, StaffInvitation, StaffRole, StaffUser
from app.staff.accounts import (
    StaffError,
    assignable_roles,
    aware,
    check_password_policy,
    check_role_and_municipality,
    create_staff,
    end_sessions,
    find_staff,
    hash_password,
    hash_token,
    normalize_email,
)
from app.staff.audit import audit, snapshot


@dataclass
class Invitation:
    invitation: StaffInvitation
    link: str
    mailed: bool


def invite_staff(actor: StaffUser, email: str, role: str, municipality_id: int | None, name: str = "",
                 region_id: int | None = None) -> Invitation:
    """Invite a staff member. An operator invited by an operator joins the inviter's
    region; by national staff, ``region_id`` (the region they have in view)."""
    email = normalize_email(email)
    if role not in assignable_roles(actor):
        raise StaffError(_("Tuto roli nemůžete přidělit."), "role")
    if not actor.is_operator:
        municipality_id = actor.municipality_id
    chosen_region, region_id = region_id, None
    if role in (StaffRole.OPERATOR, StaffRole.NATIONAL):
        municipality_id = None
        # A new operator joins the inviting operator's region.
        if role == StaffRole.OPERATOR:
            region_id = chosen_region if actor.is_national else actor.region_id
    elif municipality_id is not None and actor.is_operator and not actor.is_national:
        municipality = db_session.get(Municipality, municipality_id)
        if municipality is None or municipality.region_id != actor.region_id:
            raise StaffError(_("Vyberte obec, ke které pracovník patří."), "municipality")
    check_role_and_municipality(role, municipality_id, region_id)
    if find_staff(email) is not None:
        raise StaffError(_("Účet s tímto e-mailem už existuje."), "exists")
    token = secrets.token_urlsafe(32)
    inv = StaffInvitation(
        token_hash=hash_token(token),
        email=email,
        name=name.strip()[:200],
        role=role,
        municipality_id=municipality_id,
        region_id=region_id,
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(hours=current_app.config["ADMIN_INVITATION_HOURS"]),
    )
    db_session.add(inv)
    db_session.flush()
    link = _absolute(url_for("admin.accept_invitation", token=token))
    municipality = db_session.get(Municipality, municipality_id) if municipality_id else None
    body = _(
        "Dobrý den,\n\nbyli jste pozváni do administrace Platebního portálu%(obec)s.\n"
        "Účet si založíte na této adrese (platí %(h)s hodin):\n\n%(link)s\n",
        obec=f" ({municipality.name})" if municipality else "",
        h=current_app.config["ADMIN_INVITATION_HOURS"],
        link=link,
    )
    audit("invitation", inv, after={"email": email, "role": role}, municipality_id=municipality_id, commit=False)
    db_session.commit()
    mailed = _try_mail(email, _("Pozvánka do Platebního portálu"), body)
    return Invitation(inv, link, mailed)


def _absolute(path: str) -> str:
    if path.startswith("http"):
        return path
    return current_app.config["BASE_URL"].rstrip("/") + path


def _try_mail(to: str, subject: str, body: str) -> bool:
    try:
        return send_mail(to, subject, body)
    except MAIL_ERRORS as exc:
        current_app.logger.warning("e-mail to %s failed: %s", to, exc)
        return False


def find_invitation(token: str) -> StaffInvitation:
    inv = db_session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == hash_token(token or "")))
    if inv is None or inv.accepted_at is not None:
        raise StaffError(_("Pozvánka neexistuje nebo už byla použita."), "unknown")
    if aware(inv.expires_at) <= utcnow():
        raise StaffError(_("Platnost pozvánky vypršela. Požádejte o novou."), "expired")
    return inv


def accept_invitation(token: str, name: str, password: str) -> StaffUser:
    inv = find_invitation(token)
    check_password_policy(password)
    user = create_staff(inv.email, inv.role, inv.municipality_id, name=name or inv.name, password=password,
                        region_id=inv.region_id)
    inv.accepted_at = utcnow()
    audit(
        "invitation_accepted",
        user,
        staff=user,
        after=snapshot(user, ["email", "role", "municipality_id", "region_id"]),
        commit=False,
    )
    db_session.flush()
    return user


# -- password reset --------------------------------------------------------------------
def request_password_reset(email: str) -> str | None:
    """Mail a reset link when the account exists (the page says the same either way).
    Returns the token (for tests and the log), or None."""
    user = find_staff(email)
    if user is None or not user.active:
        return None
    token = secrets.token_urlsafe(32)
    db_session.add(
        PasswordReset(
            token_hash=hash_token(token),
            staff_id=user.id,
            expires_at=utcnow() + timedelta(minutes=current_app.config["ADMIN_RESET_MINUTES"]),
        )
    )
    audit("password_reset_requested", user, staff=user, commit=False)
    db_session.commit()
    link = _absolute(url_for("admin.reset_password", token=token))
    _try_mail(
        user.email,
        _("Obnovení hesla – Platební portál"),
        _(
            "Dobrý den,\n\nnové heslo si nastavíte na této adrese (platí %(m)s minut):\n\n%(link)s\n\n"
            "Pokud jste o obnovení nežádali, zprávu ignorujte.\n",
            m=current_app.config["ADMIN_RESET_MINUTES"],
            link=link,
        ),
    )
    return token


def find_reset(token: str) -> PasswordReset:
    reset = db_session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token or "")))
    if reset is None or reset.used_at is not None:
        raise StaffError(_("Odkaz pro obnovení hesla neexistuje nebo už byl použit."), "unknown")
    if aware(reset.expires_at) <= utcnow():
        raise StaffError(_("Platnost odkazu vypršela. Požádejte o nový."), "expired")
    return reset


def reset_password(token: str, password: str) -> StaffUser:
    reset = find_reset(token)
    check_password_policy(password)
    user = db_session.get(StaffUser, reset.staff_id)
    assert user is not None
    user.password_hash = hash_password(password)
    end_sessions(user)
    user.failed_logins = 0
    user.locked_until = None
    reset.used_at = utcnow()
    audit("password_reset", user, staff=user, commit=False)
    db_session.flush()
    return user
