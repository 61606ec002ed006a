"""The pay form: validated on the server, with messages in Czech (English when chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.mail import is_valid_email
from app.messages import message_for
from app.models import AmountMode, Obligation, Service
from app.money import AmountError, parse_czk
from app.obligations.lookup import (
    LookupInputError,
    amount_editable,
    normalize_lookup,
)
from app.payments.amounts import check_amount, check_obligation_amount
from app.payments.errors import AmountRuleError
from app.validation import CONTROL_MESSAGE, has_control_characters


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
        elif has_control_characters(self.name):
            self.errors["name"] = str(CONTROL_MESSAGE)
        if not is_valid_email(self.email) or has_control_characters(self.email):
            self.errors["email"] = _("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")
        if has_control_characters(self.amount_text):
            self.errors["amount"] = str(CONTROL_MESSAGE)
            return False
        if obligation is not None:
            self._validate_obligation_amount(service, obligation)
        elif service.amount_mode == AmountMode.PAYER:
            try:
                self.amount = check_amount(service, parse_czk(self.amount_text))
            except (AmountError, AmountRuleError) as exc:
                self.errors["amount"] = message_for(exc)
        else:
            self.amount = service.amount
        return not self.errors

    def _validate_obligation_amount(self, service: Service, obligation: Obligation) -> None:
        amount: int | None = None
        if amount_editable(service):
            try:
                amount = parse_czk(self.amount_text)
            except AmountError as exc:
                self.errors["amount"] = message_for(exc)
                return
        try:
            self.amount = check_obligation_amount(service, obligation, amount)
        except AmountRuleError as exc:
            self.errors["amount" if amount_editable(service) else "form"] = message_for(exc)


def lookup_error_message(text: str | None) -> str | None:
    """None when the lookup input is acceptable, else the message for the field."""
    try:
        normalize_lookup(text)
    except LookupInputError as exc:
        return message_for(exc)
    return None
