"""Staff accounts: passwords (argon2), TOTP, lockout, creating staff, roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.db import db_session, utcnow
from app.mail import is_valid_email
from app.models import OVER_MUNICIPALITIES, ROLE_RANK, StaffRole, StaffUser
from app.staff.audit import audit, snapshot


def _hasher() -> PasswordHasher:
    """Argon2id with the app's cost (ARGON2_TIME_COST, ARGON2_MEMORY_COST in KiB; the
    library's defaults unless configured — tests make it cheap)."""
    cache = current_app.extensions.setdefault("argon2", {})
    if "hasher" not in cache:
        cfg = current_app.config
        kwargs = {}
        if cfg.get("ARGON2_TIME_COST"):
            kwargs["time_cost"] = int(cfg["ARGON2_TIME_COST"])
        if cfg.get("ARGON2_MEMORY_COST"):
            kwargs["memory_cost"] = int(cfg["ARGON2_MEMORY_COST"])
        cache["hasher"] = PasswordHasher(**kwargs)
        # Verified against when the e-mail is unknown, so both answers take as long.
        cache["dummy"] = cache["hasher"].hash("not-a-real-password-0000")
    return cache["hasher"]


def _dummy_hash() -> str:
    _hasher()
    return current_app.extensions["argon2"]["dummy"]
MIN_PASSWORD = 12
TOTP_ISSUER = "Platební portál"


class StaffError(Exception):
    """A staff action refused; the message is Czech and safe to show."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def aware(dt: datetime | None) -> datetime | None:
    """Datetimes come back naive from some databases; they are UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- passwords -------------------------------------------------------------------------
def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: StaffUser | None, password: str) -> bool:
    hasher = _hasher()
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    try:
        ok = hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and user is not None and user.password_hash and hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return ok and user is not None and bool(user.password_hash)


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise StaffError(_("Heslo musí mít alespoň %(n)s znaků.", n=MIN_PASSWORD), "weak_password")


def find_staff(email: str) -> StaffUser | None:
    return db_session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    until = aware(user.locked_until)
    return until is not None and until > (now or utcnow())


def end_sessions(user: StaffUser) -> None:
    """Every copy of the user's session cookie stops working (the user loader compares
    the version in the cookie): on logout, a lockout, a new password, deactivation."""
    user.session_version = (user.session_version or 0) + 1


def register_failure(user: StaffUser | None, *, what: str = "password") -> None:
    """Count a failed password or code; lock the account after too many."""
    if user is None:
        audit("login_failed", None, after={"reason": "unknown_email"}, municipality_id=None)
        return
    cfg = current_app.config
    user.failed_logins += 1
    if user.failed_logins >= cfg["ADMIN_LOCKOUT_ATTEMPTS"]:
        user.locked_until = utcnow() + timedelta(minutes=cfg["ADMIN_LOCKOUT_MINUTES"])
        user.failed_logins = 0
        end_sessions(user)  # whoever is guessing may already hold a session
        audit("account_locked", user, staff=user, commit=False)
    audit("login_failed", user, after={"reason": what}, staff=user)


def authenticate(email: str, password: str) -> StaffUser:
    """The first login step. Raises StaffError (one message for unknown e-mail and wrong
    password; its own for a locked or deactivated account)."""
    user = find_staff(email)
    if user is not None and is_locked(user):
        verify_password(None, password)
        raise StaffError(_("Účet je po opakovaných neúspěšných pokusech dočasně zablokován. Zkuste to za %(m)s minut.",
                           m=current_app.config["ADMIN_LOCKOUT_MINUTES"]), "locked")
    if not verify_password(user, password):
        register_failure(user)
        raise StaffError(_("Nesprávný e-mail nebo heslo."), "invalid")
    assert user is not None
    if not user.active:
        audit("login_failed", user, after={"reason": "inactive"}, staff=user)
        raise StaffError(_("Tento účet byl deaktivován. Obraťte se na správce obce."), "inactive")
    db_session.commit()
    return user


def complete_login(user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit("login", user, staff=user)


# -- TOTP ------------------------------------------------------------------------------
def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no external image, CSP-friendly)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR")


def _matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    code = (code or "").replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    ts = (now or utcnow()).timestamp()
    for drift in (0, -1, 1):  # one step of clock skew either way
        at = ts + drift * totp.interval
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(datetime.fromtimestamp(at, UTC))
    return None


def verify_totp(user: StaffUser, code: str, *, secret: str | None = None) -> bool:
    """Check a code; a code (its time step) is accepted once only."""
    step = _matching_step(secret or user.totp_secret or "", code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def enable_totp(user: StaffUser, secret: str, code: str) -> bool:
    if not verify_totp(user, code, secret=secret):
        return False
    user.totp_secret = secret
    user.totp_enabled = True
    audit("totp_enabled", user, staff=user, commit=False)
    return True


# -- creating accounts -----------------------------------------------------------------
def check_role_and_municipality(role: str, municipality_id: int | None, region_id: int | None = None) -> None:
    """A municipality's staff belong to one municipality; an operator to one region and no
    municipality; national staff to neither."""
    if role not in ROLE_RANK:
        raise StaffError(_("Neznámá role."), "role")
    if role in OVER_MUNICIPALITIES and municipality_id is not None:
        raise StaffError(_("Pracovník operátora nepatří k žádné obci."), "municipality")
    if role not in OVER_MUNICIPALITIES and municipality_id is None:
        raise StaffError(_("Vyberte obec, ke které pracovník patří."), "municipality")
    if role == StaffRole.OPERATOR and region_id is None:
        raise StaffError(_("Pracovník operátora patří ke kraji: vyberte kraj."), "region")
    if role == StaffRole.NATIONAL and region_id is not None:
        raise StaffError(_("Celostátní pracovník nepatří k žádnému kraji."), "region")


def create_staff(
    email: str,
    role: str,
    municipality_id: int | None,
    *,
    name: str = "",
    password: str | None = None,
    totp_secret: str | None = None,
    region_id: int | None = None,
) -> StaffUser:
    """A staff account; ``region_id`` is an operator's region (required for them)."""
    email = normalize_email(email)
    if not is_valid_email(email):
        raise StaffError(_("Zadejte platnou e-mailovou adresu."), "email")
    if role != StaffRole.OPERATOR:
        region_id = None  # a municipality's staff belong to its region through it
    check_role_and_municipality(role, municipality_id, region_id)
    if find_staff(email) is not None:
        raise StaffError(_("Účet s tímto e-mailem už existuje."), "exists")
    if password is not None:
        check_password_policy(password)
    user = StaffUser(
        email=email,
        name=name.strip()[:200],
        role=role,
        municipality_id=municipality_id,
        region_id=region_id,
        password_hash=hash_password(password) if password else None,
        totp_secret=totp_secret,
        totp_enabled=bool(totp_secret),
    )
    db_session.add(user)
    db_session.flush()
    return user




def assignable_roles(actor: StaffUser) -> list[str]:
    """The roles an actor may give: never above their own; operator only by an operator,
    national only by national staff."""
    return [r for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK[actor.role]
            and (r not in OVER_MUNICIPALITIES or actor.is_operator)]


# -- team ------------------------------------------------------------------------------
def change_role(actor: StaffUser, target: StaffUser, role: str) -> StaffUser:
    if target.id == actor.id:
        raise StaffError(_("Vlastní roli změnit nemůžete."), "self")
    if role not in assignable_roles(actor) or ROLE_RANK[target.role] > ROLE_RANK[actor.role]:
        raise StaffError(_("Tuto roli nemůžete přidělit."), "role")
    if role in OVER_MUNICIPALITIES or target.role in OVER_MUNICIPALITIES:
        raise StaffError(_("Roli operátora nelze měnit v týmu obce."), "role")
    before = snapshot(target, ["role"])
    target.role = role
    audit("role_change", target, before=before, after=snapshot(target, ["role"]), commit=False)
    db_session.flush()
    return target


def set_staff_active(actor: StaffUser, target: StaffUser, active: bool) -> StaffUser:
    if target.id == actor.id:
        raise StaffError(_("Vlastní účet deaktivovat nemůžete."), "self")
    if ROLE_RANK[target.role] > ROLE_RANK[actor.role]:
        raise StaffError(_("Tento účet nemůžete změnit."), "role")
    before = snapshot(target, ["active"])
    target.active = active
    end_sessions(target)
    audit("staff_activated" if active else "staff_deactivated", target, before=before,
          after=snapshot(target, ["active"]), commit=False)
    db_session.flush()
    return target




def count_staff(municipality_id: int | None) -> int:
    stmt = select(func.count(StaffUser.id))
    if municipality_id is not None:
        stmt = stmt.where(StaffUser.municipality_id == municipality_id)
    return db_session.scalar(stmt) or 0
