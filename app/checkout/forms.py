"""The pay form: validated on the server, with messages in Czech (English when chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.mail import is_valid_email
from app.models import AmountMode, Obligation, Service
from app.money import AmountError, format_czk, parse_czk
from app.obligations.lookup import (
    LookupInputError,
    amount_editable,
    check_obligation_amount,
    normalize_lookup,
)
from app.payments.create import check_amount
from app.payments.errors import AmountRuleError


@dataclass
class PayForm:
    name: str = ""
    email: str = ""
    amount_text: str = ""
    amount: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form, service: Service, obligation: Obligation | None = None) -> PayForm:  # type: ignore[no-untyped-def]
        f = cls(
            name=(form.get("name") or "").strip()[:200],
            email=(form.get("email") or "").strip()[:254],
            amount_text=(form.get("amount") or "").strip()[:40],
        )
        f.validate(service, obligation)
        return f

    def validate(self, service: Service, obligation: Obligation | None = None) -> bool:
        if len(self.name) < 2:
            self.errors["name"] = _("Vyplňte jméno a příjmení plátce.")
        if not is_valid_email(self.email):
            self.errors["email"] = _("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")
        if obligation is not None:
            self._validate_obligation_amount(service, obligation)
        elif service.amount_mode == AmountMode.PAYER:
            try:
                self.amount = parse_czk(self.amount_text)
            except AmountError as exc:
                self.errors["amount"] = {
                    "missing": _("Zadejte částku."),
                    "negative": _("Částka nesmí být záporná."),
                    "too_large": _("Částka je příliš vysoká."),
                }.get(str(exc), _("Částka musí být číslo v korunách, např. 500 nebo 499,50."))
            else:
                try:
                    self.amount = check_amount(service, self.amount)
                except AmountRuleError as exc:
                    self.errors["amount"] = {
                        "not_positive": _("Částka musí být větší než nula."),
                        "below_min": _("Nejnižší možná částka je %(limit)s.", limit=format_czk(exc.limit)),
                        "above_max": _("Nejvyšší možná částka je %(limit)s.", limit=format_czk(exc.limit)),
                    }.get(exc.code, _("Zadejte částku."))
        else:
            self.amount = service.amount
        return not self.errors

    def _validate_obligation_amount(self, service: Service, obligation: Obligation) -> None:
        amount: int | None = None
        if amount_editable(service):
            try:
                amount = parse_czk(self.amount_text)
            except AmountError as exc:
                self.errors["amount"] = {
                    "missing": _("Zadejte částku."),
                    "negative": _("Částka nesmí být záporná."),
                }.get(str(exc), _("Částka musí být číslo v korunách, např. 500 nebo 499,50."))
                return
        try:
            self.amount = check_obligation_amount(service, obligation, amount)
        except AmountRuleError as exc:
            key = "amount" if amount_editable(service) else "form"
            self.errors[key] = {
                "already_paid": _("Tento předpis je již zaplacen."),
                "not_positive": _("Částka musí být větší než nula."),
                "below_min": _("Zaplaťte alespoň %(limit)s.", limit=format_czk(exc.limit)),
                "above_max": _("Zaplatit můžete nejvýše %(limit)s, tedy zbývající dlužnou částku.", limit=format_czk(exc.limit)),
            }.get(exc.code, _("Zadejte částku."))


def lookup_error_message(text: str | None) -> str | None:
    """None when the lookup input is acceptable, else a Czech message for the field."""
    try:
        normalize_lookup(text)
    except LookupInputError as exc:
        return {
            "missing": _("Zadejte zákaznické číslo nebo variabilní symbol."),
            "too_long": _("Zákaznické číslo ani variabilní symbol nemají víc než 100 znaků. Zkontrolujte, co jste zadali."),
        }.get(exc.code, _("Zákaznické číslo nebo variabilní symbol smí obsahovat jen písmena, číslice, mezery a znaky - / . _"))
    return None
