"""Services (fees) as the admin area edits them: validation and saving.

``ServiceInput`` is what a form hands over (plain text as typed); ``validate_service``
returns {field: Czech message}; ``save_service`` writes and audits. New fields (such as
the obligation lookup settings) are added to ``ServiceInput``, ``validate_service`` and
``_apply``, and the form gains the matching inputs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.db import db_session
from app.identifiers import account_or_iban_to_iban, slugify
from app.models import AmountMatch, AmountMode, LookupMode, Municipality, Service, VariableSymbolRule
from app.money import AmountError, amount_input, format_czk, parse_czk
from app.staff.audit import audit, snapshot

_DIGITS = re.compile(r"^\d+$")


@dataclass
class ServiceInput:
    name: str = ""
    slug: str = ""
    description: str = ""
    account: str = ""  # IBAN or Czech account; empty = the municipality's account
    amount_mode: str = AmountMode.FIXED
    amount: str = ""
    amount_min: str = ""
    amount_max: str = ""
    vs_rule: str = VariableSymbolRule.PER_PAYMENT
    variable_symbol: str = ""
    constant_symbol: str = ""
    period: str = ""
    due_date: str = ""
    allowed_gateways: list[str] = field(default_factory=list)
    lookup_mode: str = LookupMode.NONE
    amount_match: str = AmountMatch.EXACT
    active: bool = True

    @classmethod
    def from_service(cls, s: Service) -> ServiceInput:
        def czk(v: int | None) -> str:
            return amount_input(v).replace("\u00a0", "") if v else ""

        return cls(
            name=s.name, slug=s.slug, description=s.description or "", account=s.iban or "",
            amount_mode=s.amount_mode, amount=czk(s.amount), amount_min=czk(s.amount_min), amount_max=czk(s.amount_max),
            vs_rule=s.vs_rule, variable_symbol=s.variable_symbol or "", constant_symbol=s.constant_symbol or "",
            period=s.period or "", due_date=s.due_date or "", allowed_gateways=list(s.allowed_gateways or []),
            lookup_mode=s.lookup_mode or LookupMode.NONE, amount_match=s.amount_match or AmountMatch.EXACT,
            active=s.active,
        )


@dataclass
class Cleaned:
    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _money(text: str, name: str, out: Cleaned, *, required: bool) -> int | None:
    text = (text or "").strip()
    if not text:
        if required:
            out.errors[name] = _("Zadejte částku v korunách.")
        return None
    try:
        value = parse_czk(text)
    except AmountError as exc:
        out.errors[name] = (_("Částka nesmí být záporná.") if str(exc) == "negative"
                            else _("Částka musí být číslo v korunách, např. 500 nebo 499,50."))
        return None
    if value <= 0:
        out.errors[name] = _("Částka musí být větší než nula.")
        return None
    return value


def validate_service(data: ServiceInput, municipality: Municipality, existing: Service | None = None) -> Cleaned:
    out = Cleaned()
    v = out.values
    name = (data.name or "").strip()
    if len(name) < 3:
        out.errors["name"] = _("Vyplňte název služby (alespoň 3 znaky).")
    elif len(name) > 200:
        out.errors["name"] = _("Název může mít nejvýše 200 znaků.")
    v["name"] = name[:200]
    slug = slugify(data.slug or name)[:120]
    if not slug:
        out.errors["slug"] = _("Adresa služby smí obsahovat jen písmena bez diakritiky, číslice a pomlčky.")
    else:
        clash = db_session.scalar(select(Service.id).where(
            Service.municipality_id == municipality.id, Service.slug == slug,
            Service.id != (existing.id if existing else -1)))
        if clash:
            out.errors["slug"] = _("Služba s touto adresou už v obci existuje; zvolte jinou.")
    v["slug"] = slug
    v["description"] = (data.description or "").strip()[:4000]

    account = (data.account or "").strip()
    if account:
        try:
            v["iban"] = account_or_iban_to_iban(account)
        except ValueError:
            out.errors["account"] = _("Číslo účtu není platné. Zadejte IBAN (CZ…) nebo účet ve tvaru 19-2000145399/0800; zkontrolujte číslice.")
    else:
        v["iban"] = None
        if not municipality.iban:
            out.errors["account"] = _("Obec nemá nastavený účet: zadejte účet služby.")

    if data.amount_mode == AmountMode.FIXED:
        v["amount_mode"] = AmountMode.FIXED
        v["amount"] = _money(data.amount, "amount", out, required=True)
        v["amount_min"] = v["amount_max"] = None
    elif data.amount_mode == AmountMode.PAYER:
        v["amount_mode"] = AmountMode.PAYER
        v["amount"] = None
        lo = v["amount_min"] = _money(data.amount_min, "amount_min", out, required=False)
        hi = v["amount_max"] = _money(data.amount_max, "amount_max", out, required=False)
        if lo is not None and hi is not None and lo > hi:
            out.errors["amount_max"] = _("Nejvyšší částka musí být alespoň tak velká jako nejnižší (%(min)s).",
                                         min=format_czk(lo))
    else:
        out.errors["amount_mode"] = _("Vyberte, zda má služba pevnou cenu, nebo částku zadá plátce.")

    vs = (data.variable_symbol or "").strip()
    if data.vs_rule == VariableSymbolRule.FIXED:
        if not (_DIGITS.match(vs) and len(vs) <= 10):
            out.errors["variable_symbol"] = _("Pevný variabilní symbol musí mít 1 až 10 číslic.")
    elif data.vs_rule == VariableSymbolRule.PER_PAYMENT:
        if vs and not (_DIGITS.match(vs) and len(vs) <= 4):
            out.errors["variable_symbol"] = _("Předčíslí variabilního symbolu může mít nejvýše 4 číslice (zbytek doplní portál).")
    else:
        out.errors["vs_rule"] = _("Vyberte pravidlo pro variabilní symbol.")
    v["vs_rule"] = data.vs_rule
    v["variable_symbol"] = vs or None
    ks = (data.constant_symbol or "").strip()
    if ks and not (_DIGITS.match(ks) and len(ks) <= 4):
        out.errors["constant_symbol"] = _("Konstantní symbol má nejvýše 4 číslice.")
    v["constant_symbol"] = ks or None
    v["period"] = (data.period or "").strip()[:40] or None
    v["due_date"] = (data.due_date or "").strip()[:40] or None

    enabled = list(current_app.config["ENABLED_GATEWAYS"])
    chosen = [g for g in dict.fromkeys(data.allowed_gateways or [])]
    if not chosen:
        out.errors["allowed_gateways"] = _("Vyberte alespoň jednu platební bránu.")
    elif any(g not in enabled for g in chosen):
        out.errors["allowed_gateways"] = _("Vybraná platební brána není v portálu zapnutá.")
    v["allowed_gateways"] = chosen
    _lookup_settings(data, out)
    v["active"] = bool(data.active)
    return out


def _lookup_settings(data: ServiceInput, out: Cleaned) -> None:
    """Whether the citizen looks up what they owe (by customer ID), and how the paid
    amount must relate to what is left to pay on the obligation."""
    mode = (data.lookup_mode or "").strip()
    match = (data.amount_match or "").strip()
    if mode not in set(LookupMode):
        out.errors["lookup_mode"] = _("Vyberte, zda se platba páruje s předpisem podle zákaznického čísla.")
    if match not in set(AmountMatch):
        out.errors["amount_match"] = _("Vyberte, jakou částku smí plátce u předpisu zaplatit.")
    out.values["lookup_mode"] = mode
    out.values["amount_match"] = match


def save_service(data: ServiceInput, municipality: Municipality, existing: Service | None = None) -> tuple[Service | None, dict[str, str]]:
    """Create or update a service with its audit row (flushed; the request commits);
    nothing is written when there are errors."""
    cleaned = validate_service(data, municipality, existing)
    if cleaned.errors:
        return None, cleaned.errors
    before = snapshot(existing) if existing else None
    service = existing or Service(municipality_id=municipality.id)
    for key, value in cleaned.values.items():
        setattr(service, key, value)
    db_session.add(service)
    db_session.flush()
    audit("service_edit" if existing else "service_create", service, before=before, after=snapshot(service), commit=False)
    db_session.flush()
    return service, {}


def set_service_active(service: Service, active: bool) -> Service:
    before = snapshot(service, ["active"])
    service.active = active
    audit("service_activate" if active else "service_deactivate", service, before=before,
          after=snapshot(service, ["active"]), commit=False)
    db_session.flush()
    return service


def update_municipality_settings(
    municipality: Municipality,
    *,
    demo_mode: bool,
    account: str,
    reminder_days_before: int | None | bool = False,
    reminder_days_after: int | None | bool = False,
) -> dict[str, str]:
    """Demo vs live mode, the municipality's default account and the days of its e-mail
    reminders (False: leave as they are; None: send none)."""
    errors: dict[str, str] = {}
    iban = municipality.iban
    if account.strip():
        try:
            iban = account_or_iban_to_iban(account)
        except ValueError:
            errors["account"] = _("Číslo účtu není platné. Zadejte IBAN (CZ…) nebo účet ve tvaru 19-2000145399/0800.")
    if not demo_mode and not iban:
        errors["demo_mode"] = _("Ostrý provoz vyžaduje nastavený účet obce.")
    if errors:
        return errors
    fields = ["demo_mode", "iban", "reminder_days_before", "reminder_days_after"]
    before = snapshot(municipality, fields)
    municipality.demo_mode = demo_mode
    municipality.iban = iban
    if reminder_days_before is not False:
        municipality.reminder_days_before = reminder_days_before or None
    if reminder_days_after is not False:
        municipality.reminder_days_after = reminder_days_after or None
    audit("municipality_settings", municipality, before=before, after=snapshot(municipality, fields), commit=False)
    db_session.flush()
    return {}
