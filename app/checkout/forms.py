"""The pay form: validated on the server, with messages in Czech (English when chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.mail import ValidEmail, is_valid_email
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


def _clip(limit: int):  # type: ignore[no-untyped-def]
    def clip(value):  # type: ignore[no-untyped-def]
        return value.strip()[:limit] if isinstance(value, str) else value

    return clip


class PayForm(FlaskForm):
    """The payer's name, e-mail and (when they choose it) the amount. The template writes
    its own inputs and shows ``messages`` (one per field, and "form")."""

    class Meta:
        # The app's CSRFProtect checks every POST already (the template carries the token);
        # the admin's preview validates this form without one.
        csrf = False

        def get_translations(self, form):  # type: ignore[no-untyped-def]
            # Every message of this form is ours (in the app's catalogue). WTForms' own
            # catalogue would be read from disk on every request by Flask-WTF: on the
            # hottest citizen page, that doubled the CPU time.
            return None

    name = StringField(filters=[_clip(200)], validators=[Length(min=2, message=_l("Vyplňte jméno a příjmení plátce."))])
    email = StringField(
        filters=[_clip(254)],
        validators=[
            DataRequired(_l("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")),
            ValidEmail(_l("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")),
        ],
    )
    amount = StringField(filters=[_clip(40)])

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.messages: dict[str, str] = {}
        self.amount_value: int | None = None

    @classmethod
    def blank(cls, **data: str) -> PayForm:
        """A form not bound to the request (GET, or a POST answered with a fresh form)."""
        return cls(formdata=None, data=data)

    @classmethod
    def from_request(cls, form, service: Service, obligation: Obligation | None = None) -> PayForm:  # type: ignore[no-untyped-def]
        f = cls(formdata=form)
        f.check(service, obligation)
        return f

    def check(self, service: Service, obligation: Obligation | None = None) -> bool:
        """The fields' validators, then the service's (or the obligation's) amount rule."""
        self.validate()
        self.messages = {name: str(errors[0]) for name, errors in self.errors.items() if errors}
        # Control characters are refused in every text field (app/validation.py).
        for name in ("name", "email", "amount"):
            if name not in self.messages and has_control_characters(getattr(self, name).data or ""):
                self.messages[name] = str(CONTROL_MESSAGE)
        if "amount" in self.messages:
            return False
        if obligation is not None:
            self._check_obligation_amount(service, obligation)
        elif service.amount_mode == AmountMode.PAYER:
            try:
                self.amount_value = check_amount(service, parse_czk(self.amount.data))
            except (AmountError, AmountRuleError) as exc:
                self.messages["amount"] = message_for(exc)
        else:
            self.amount_value = service.amount
        return not self.messages

    def _check_obligation_amount(self, service: Service, obligation: Obligation) -> None:
        amount: int | None = None
        if amount_editable(service):
            try:
                amount = parse_czk(self.amount.data)
            except AmountError as exc:
                self.messages["amount"] = message_for(exc)
                return
        try:
            self.amount_value = check_obligation_amount(service, obligation, amount)
        except AmountRuleError as exc:
            self.messages["amount" if amount_editable(service) else "form"] = message_for(exc)


@dataclass
class SeveralForm:
    """The payer's name and e-mail and the ticked obligations of a payment of several."""

    name: str = ""
    email: str = ""
    keys: list[str] = field(default_factory=list)
    chosen: list[Obligation] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form, obligations: list[Obligation]) -> SeveralForm:  # type: ignore[no-untyped-def]
        from app.obligations.household import chosen

        f = cls(
            name=(form.get("name") or "").strip()[:200],
            email=(form.get("email") or "").strip()[:254],
            keys=[k[:3] for k in form.getlist("item")][:50],
        )
        f.chosen = [o for o in chosen(obligations, f.keys) if o.remaining > 0]
        if not f.chosen:
            f.errors["items"] = _("Zaškrtněte alespoň jeden předpis, který chcete zaplatit.")
        if len(f.name) < 2:
            f.errors["name"] = _("Vyplňte jméno a příjmení plátce.")
        elif has_control_characters(f.name):
            f.errors["name"] = str(CONTROL_MESSAGE)
        if not is_valid_email(f.email) or has_control_characters(f.email):
            f.errors["email"] = _("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")
        return f


def lookup_error_message(text: str | None) -> str | None:
    """None when the lookup input is acceptable, else the message for the field."""
    try:
        normalize_lookup(text)
    except LookupInputError as exc:
        return message_for(exc)
    return None
