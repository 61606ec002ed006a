"""The audit log in words for the operator: action names, the kind of object, and an
entry's before/after as readable "field: before → after" lines (amounts in Kč, yes/no,
states and roles by name, staff members by name) instead of raw JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from app.db import db_session
from app.i18n import N_
from app.models import AuditLog, StaffUser
from app.money import format_czk
from app.payments.labels import gateway_label, state_label

ACTIONS = {
    "login": N_("Přihlášení"),
    "login_failed": N_("Neúspěšné přihlášení"),
    "logout": N_("Odhlášení"),
    "account_locked": N_("Účet zablokován"),
    "totp_enabled": N_("Zapnuto dvoufázové ověření"),
    "password_reset": N_("Změna hesla"),
    "password_reset_requested": N_("Žádost o nové heslo"),
    "invitation": N_("Pozvánka pracovníka"),
    "invitation_accepted": N_("Pozvánka přijata"),
    "role_change": N_("Změna role"),
    "staff_activated": N_("Pracovník aktivován"),
    "staff_deactivated": N_("Pracovník deaktivován"),
    "service_create": N_("Nová služba"),
    "service_edit": N_("Úprava služby"),
    "service_activate": N_("Služba zapnuta"),
    "service_deactivate": N_("Služba vypnuta"),
    "municipality_settings": N_("Nastavení obce"),
    "obligation_import": N_("Nahrání seznamu plátců"),
    "export": N_("Export plateb"),
    "refund": N_("Vrácení platby"),
    "refund.sent": N_("Vrácení převodu odesláno z banky"),
    "gateway_account_create": N_("Nový účet platební brány"),
    "gateway_account_edit": N_("Úprava účtu platební brány"),
    "gateway_account_activate": N_("Účet platební brány zapnut"),
    "gateway_account_deactivate": N_("Účet platební brány vypnut"),
    "gateway_account_test": N_("Test spojení s platební bránou"),
    "bank_account.create": N_("Nový bankovní účet"),
    "bank_account.token": N_("Změna tokenu banky"),
    "bank_statement.import": N_("Nahrání bankovního výpisu"),
    "bank_line.match": N_("Spárování bankovního převodu"),
    "bank_line.undo": N_("Zrušení spárování převodu"),
    "bank_line.return": N_("Vrácení převodu odesílateli"),
    "privacy.erase": N_("Výmaz osobních údajů"),
    "anonymise": N_("Anonymizace po uplynutí lhůty"),
    "delete": N_("Smazání po uplynutí lhůty"),
    "erase": N_("Výmaz osobních údajů"),
    "municipality_create": N_("Nová obec"),
    "municipality_state": N_("Změna stavu připojení obce"),
}

OBJECTS = {
    "StaffUser": N_("Pracovník"),
    "StaffInvitation": N_("Pozvánka"),
    "Payment": N_("Platba"),
    "Service": N_("Služba"),
    "Municipality": N_("Obec"),
    "GatewayAccount": N_("Účet platební brány"),
    "BankAccount": N_("Bankovní účet"),
    "BankStatement": N_("Bankovní výpis"),
    "BankLine": N_("Bankovní převod"),
    "ObligationUpload": N_("Seznam plátců"),
    "Refund": N_("Vrácení"),
}

FIELDS = {
    "name": N_("Název"),
    "slug": N_("Adresa"),
    "active": N_("Aktivní"),
    "amount": N_("Částka"),
    "amount_refunded": N_("Vráceno celkem"),
    "min_amount": N_("Nejnižší částka"),
    "max_amount": N_("Nejvyšší částka"),
    "fixed_amount": N_("Pevná částka"),
    "state": N_("Stav"),
    "refund_state": N_("Stav vrácení"),
    "refund_id": N_("Číslo vrácení"),
    "counter_account": N_("Protiúčet"),
    "reason": N_("Důvod"),
    "role": N_("Role"),
    "email": N_("E-mail"),
    "format": N_("Formát"),
    "rows": N_("Řádků"),
    "filters": N_("Filtr"),
    "filename": N_("Soubor"),
    "service_id": N_("Služba"),
    "municipality_id": N_("Obec"),
    "description": N_("Popis"),
    "variable_symbol": N_("Variabilní symbol"),
    "demo_mode": N_("Zkušební režim"),
    "gateway_name": N_("Platební brána"),
    "gateway": N_("Platební brána"),
    "label": N_("Označení"),
    "ok": N_("Výsledek"),
    "message": N_("Zpráva"),
    "status": N_("Stav"),
    "payments": N_("Platby"),
    "counts": N_("Počty"),
    "secrets_changed": N_("Změněné klíče"),
    "account_number": N_("Číslo účtu"),
    "bank_code": N_("Kód banky"),
    "iban": N_("IBAN"),
    "actor": N_("Provedl"),
    "lookup_mode": N_("Vyhledání předpisu"),
    "amount_mode": N_("Určení částky"),
}

# Values that are amounts in haléře.
AMOUNT_FIELDS = {"amount", "amount_refunded", "min_amount", "max_amount", "fixed_amount", "amount_overpaid"}
LOGIN_REASONS = {
    "unknown_email": N_("neznámý e-mail"),
    "password": N_("chybné heslo"),
    "totp": N_("chybný kód"),
    "inactive": N_("účet je vypnutý"),
    "locked": N_("účet je zablokovaný"),
}
ROLES = {
    "viewer": N_("Čtenář"),
    "clerk": N_("Úředník"),
    "municipality_admin": N_("Správce obce"),
    "operator": N_("Operátor"),
}


@dataclass(frozen=True)
class DetailLine:
    label: str
    before: str | None  # None: the entry has no "before" for this field
    after: str | None


@dataclass(frozen=True)
class AuditEntry:
    row: AuditLog
    action: str
    staff: str  # the staff member's name (and e-mail)
    subject: str  # the object in words
    details: list[DetailLine]


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return gettext(label) if label else action.replace("_", " ").replace(".", " – ").capitalize()


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return gettext("ano") if value else gettext("ne")
    if key in AMOUNT_FIELDS and isinstance(value, int):
        return format_czk(value)
    if key in ("state", "refund_state") and isinstance(value, str):
        return state_label(value)
    if key == "role" and isinstance(value, str) and value in ROLES:
        return gettext(ROLES[value])
    if key in ("gateway", "gateway_name") and isinstance(value, str):
        return gateway_label(value)
    if key == "reason" and isinstance(value, str) and value in LOGIN_REASONS:
        return gettext(LOGIN_REASONS[value])
    if isinstance(value, dict):
        return ", ".join(f"{_field(k)}: {_value(k, v)}" for k, v in value.items()) or "–"
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, v) for v in value) or "–"
    return str(value)


def _field(key: str) -> str:
    label = FIELDS.get(key)
    return gettext(label) if label else key.replace("_", " ")


def describe_details(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[DetailLine]:
    """Each field once: what it was and what it became (unchanged fields left out when
    both sides are known)."""
    before, after = before or {}, after or {}
    lines = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in before and key in after and before[key] == after[key]:
            continue
        lines.append(
            DetailLine(
                _field(key),
                _value(key, before[key]) if key in before else None,
                _value(key, after[key]) if key in after else None,
            )
        )
    return lines


def _names(ids: Iterable[int]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = db_session.execute(select(StaffUser.id, StaffUser.name, StaffUser.email).where(StaffUser.id.in_(wanted)))
    return {i: (name or email) for i, name, email in rows}


def describe_entries(rows: list[AuditLog]) -> list[AuditEntry]:
    """The page's rows in words; staff names looked up once for the page."""
    staff_objects = [int(r.object_id) for r in rows if r.object_type == "StaffUser" and (r.object_id or "").isdigit()]
    names = _names([r.staff_id for r in rows if r.staff_id] + staff_objects)
    entries = []
    for r in rows:
        who = names.get(r.staff_id or 0)
        staff = f"{who} ({r.staff_email})" if who and r.staff_email and who != r.staff_email else (who or r.staff_email)
        subject = ""
        if r.object_type:
            kind = OBJECTS.get(r.object_type)
            kind_text = gettext(kind) if kind else r.object_type
            if r.object_type == "StaffUser" and (r.object_id or "").isdigit():
                subject = f"{kind_text} {names.get(int(r.object_id or 0), r.object_id)}"
            else:
                subject = f"{kind_text} {r.object_id or ''}".strip()
        entries.append(
            AuditEntry(
                r, action_label(r.action), staff or gettext("systém"), subject, describe_details(r.before, r.after)
            )
        )
    return entries
