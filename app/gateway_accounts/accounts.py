"""Creating, editing, deactivating and testing gateway accounts; the settings an adapter is
built from. Secret values go in encrypted and come out only for building the adapter or
masked ("••••1234")."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from app.db import db_session, utcnow
from app.gateway_accounts.crypto import SecretsUnavailable, decrypt_secrets, encrypt_secrets, fernet
from app.gateway_accounts.kinds import KINDS, ORDER
from app.gateway_accounts.settings import kind_of
from app.gateways import build_account_gateway
from app.ids import new_external_id
from app.models import GatewayAccount, GatewayMode, Municipality
from app.staff.audit import audit, snapshot
from gateway import GatewayError

log = logging.getLogger(__name__)
MASK = "••••"
AUDIT_FIELDS = ["public_id", "municipality_id", "gateway_name", "label", "mode", "settings", "active"]


@dataclass
class AccountInput:
    gateway_name: str
    label: str
    mode: str = GatewayMode.SANDBOX
    values: dict[str, str] = field(default_factory=dict)  # blank secret = keep the stored one
    active: bool = True


def mask(value: str) -> str:
    """ "••••1234" for a one-line secret long enough to hide, "••••" otherwise (PEM keys)."""
    value = value or ""
    if not value:
        return ""
    if "\n" in value.strip() or len(value) < 12:
        return MASK
    return MASK + value[-4:]


def masked_secrets(account: GatewayAccount) -> dict[str, str]:
    try:
        stored = decrypt_secrets(account.secrets_encrypted)
    except SecretsUnavailable:
        return {f.name: MASK for f in kind_of(account).secret_fields}
    return {f.name: mask(str(stored.get(f.name) or "")) for f in kind_of(account).secret_fields}


def redirect_origin(account: GatewayAccount) -> str | None:
    """The origin the payer is sent to (the gateway's hosted page), from the non-secret
    settings; None for gateways whose card form is on our page."""
    kind = kind_of(account)
    plain = account.settings or {}
    url = plain.get("gateway_url") or plain.get("url") or kind.default_urls.get(account.mode)
    if not url or account.gateway_name in ("stripe", "demo"):
        return None
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def active_accounts(municipality_id: int) -> list[GatewayAccount]:
    rows = db_session.scalars(
        select(GatewayAccount).where(GatewayAccount.municipality_id == municipality_id, GatewayAccount.active.is_(True))
    ).all()
    return sorted(rows, key=lambda a: ORDER.index(a.gateway_name) if a.gateway_name in ORDER else len(ORDER))


def active_account(municipality_id: int, gateway_name: str) -> GatewayAccount | None:
    return db_session.scalar(
        select(GatewayAccount).where(
            GatewayAccount.municipality_id == municipality_id,
            GatewayAccount.gateway_name == gateway_name,
            GatewayAccount.active.is_(True),
        )
    )


def find_by_public_id(gateway_name: str, public_id: str) -> GatewayAccount | None:
    if not re.fullmatch(r"[a-z0-9]{26}", public_id or ""):
        return None
    return db_session.scalar(
        select(GatewayAccount).where(GatewayAccount.public_id == public_id, GatewayAccount.gateway_name == gateway_name)
    )


_URL = re.compile(r"^https?://[^\s|]+$")


def validate(data: AccountInput, existing: GatewayAccount | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    kind = KINDS.get(data.gateway_name)
    if kind is None:
        return {"gateway_name": _("Vyberte platební bránu.")}
    if not data.label.strip() or len(data.label) > 120:
        errors["label"] = _("Vyplňte název účtu (nejvýše 120 znaků).")
    if data.mode not in (GatewayMode.SANDBOX, GatewayMode.PRODUCTION):
        errors["mode"] = _("Vyberte zkušební nebo ostrý režim.")
    stored = set()
    if existing is not None:
        try:
            stored = {k for k, v in decrypt_secrets(existing.secrets_encrypted).items() if v}
        except SecretsUnavailable:
            stored = set()
    for f in kind.fields:
        value = (data.values.get(f.name) or "").strip()
        if f.required and not value and not (f.secret and f.name in stored):
            errors[f.name] = _("Vyplňte toto pole.")
            continue
        if not value:
            continue
        if len(value) > (8000 if f.multiline else 500):
            errors[f.name] = _("Hodnota je příliš dlouhá.")
        elif f.choices and value not in f.choices:
            errors[f.name] = _("Vyberte jednu z nabízených hodnot.")
        elif f.name.endswith("url") and not _URL.match(value):
            errors[f.name] = _("Zadejte adresu začínající http:// nebo https://.")
        elif f.name in ("goid", "merchant_number", "invoice_minutes") and not value.isdigit():
            errors[f.name] = _("Zadejte číslo.")
        elif f.multiline and "-----BEGIN" not in value:
            errors[f.name] = _("Vložte klíč ve formátu PEM (-----BEGIN …).")
    return errors


def save_account(
    data: AccountInput, municipality: Municipality, existing: GatewayAccount | None = None
) -> tuple[GatewayAccount | None, dict[str, str]]:
    """Create or edit an account with its audit row; returns (account, {}) or (None,
    {field: message}). Flushes; the request commits."""
    if existing is not None:
        data.gateway_name = existing.gateway_name  # a gateway's fields do not fit another
    errors = validate(data, existing)
    if not errors and data.active:
        clash = db_session.scalar(
            select(GatewayAccount.id).where(
                GatewayAccount.municipality_id == municipality.id,
                GatewayAccount.gateway_name == data.gateway_name,
                GatewayAccount.active.is_(True),
                GatewayAccount.id != (existing.id if existing is not None else -1),
            )
        )
        if clash is not None:
            errors["gateway_name"] = _("Obec už má aktivní účet této brány. Nejprve jej deaktivujte.")
    if not errors:
        try:
            fernet()
        except SecretsUnavailable:
            errors["form"] = _(
                "Server nemá nastavený šifrovací klíč (SECRET_ENCRYPTION_KEYS); tajné údaje nelze uložit."
            )
    if errors:
        return None, errors
    kind = KINDS[data.gateway_name]
    before = snapshot(existing, AUDIT_FIELDS) if existing is not None else {}
    account = existing or GatewayAccount(
        public_id=new_external_id(), municipality_id=municipality.id, gateway_name=data.gateway_name
    )
    secrets = decrypt_secrets(account.secrets_encrypted) if existing is not None else {}
    plain: dict[str, str] = {}
    changed_secrets = []
    for f in kind.fields:
        value = (data.values.get(f.name) or "").strip()
        if f.secret:
            if value:
                secrets[f.name] = value
                changed_secrets.append(f.name)
        elif value:
            plain[f.name] = value
    account.label = data.label.strip()
    account.mode = data.mode
    account.settings = plain
    account.secrets_encrypted = encrypt_secrets({k: v for k, v in secrets.items() if v})
    account.active = data.active
    account.updated_at = utcnow()
    if changed_secrets or existing is None:
        # A new secret has not been tested yet.
        account.last_test_ok = None
        account.last_test_message = None
        account.last_test_at = None
    db_session.add(account)
    db_session.flush()
    after = snapshot(account, AUDIT_FIELDS) | {"secrets_changed": sorted(changed_secrets)}
    audit(
        "gateway_account_edit" if existing is not None else "gateway_account_create",
        account,
        before=before,
        after=after,
        municipality_id=municipality.id,
        commit=False,
    )
    db_session.flush()
    return account, {}


def set_account_active(account: GatewayAccount, active: bool) -> str | None:
    """Deactivate or reactivate; returns an error message or None. Flushes; the request commits.

    A payment keeps the account it was created with, so a deactivated account still
    answers its payments' status checks, notifications and refunds."""
    if active and not account.active:
        clash = active_account(account.municipality_id, account.gateway_name)
        if clash is not None:
            return _("Obec už má aktivní účet této brány. Nejprve jej deaktivujte.")
    before = snapshot(account, AUDIT_FIELDS)
    account.active = active
    account.updated_at = utcnow()
    audit(
        "gateway_account_activate" if active else "gateway_account_deactivate",
        account,
        before=before,
        after=snapshot(account, AUDIT_FIELDS),
        municipality_id=account.municipality_id,
        commit=False,
    )
    db_session.flush()
    return None


def check_account_connection(account: GatewayAccount) -> tuple[bool, str]:
    """ "Otestovat spojení": build the adapter and ask the gateway (it only reads). Records
    the result and its audit row; flushes, the request commits."""

    ok, message = False, ""
    try:
        build_account_gateway(account).check_connection()
        ok, message = True, _("Spojení funguje.")
    except SecretsUnavailable as exc:
        message = str(exc)
    except GatewayError as exc:
        message = str(exc)[:480]
    except Exception as exc:  # noqa: BLE001 - a clerk's button must say something, not 500
        log.warning("connection test of gateway account %s failed: %s", account.public_id, type(exc).__name__)
        message = _("Neočekávaná chyba při spojení s bránou (%(kind)s).", kind=type(exc).__name__)
    account.last_test_at = utcnow()
    account.last_test_ok = ok
    account.last_test_message = message[:500]
    audit(
        "gateway_account_test",
        account,
        after={"ok": ok, "message": message[:200]},
        municipality_id=account.municipality_id,
        commit=False,
    )
    db_session.flush()
    return ok, message


def rotate_all() -> int:
    """Re-encrypt every account's secrets with the first key (``flask secrets rotate``)."""
    from app.gateway_accounts.crypto import rotate_token

    count = 0
    for account in db_session.scalars(select(GatewayAccount).order_by(GatewayAccount.id)).all():
        if account.secrets_encrypted:
            account.secrets_encrypted = rotate_token(account.secrets_encrypted)
            count += 1
    db_session.commit()
    return count
