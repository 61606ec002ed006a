"""The checkout's forms (Flask-WTF), validated on the server with messages in Czech
(English when chosen): the pay form, the payment of several obligations, the lookup and
the review step (payment method and consent)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.citizens.consent import ConsentRequired, require_consent
from app.mail import ValidEmail
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
from app.validation import CONTROL_MESSAGE, CitizenForm, CitizenMeta, NoControlCharacters, clip, has_control_characters

EMAIL_MESSAGE = _l("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")


class TokenField(Field):
    """A hidden token the page wrote (signed, or random): passed on as it came, cut to
    ``max_length``, and checked by whoever reads it, not as text a payer typed."""

    def __init__(self, *args, max_length: int | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = str(valuelist[0])[: self.max_length] if self.max_length else str(valuelist[0])


class KeysField(Field):
    """The values of the ticked checkboxes (at most 50, each cut to 3 characters)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [str(v)[:3] for v in valuelist][:50]


class PayForm(FlaskForm):
    """The payer's name, e-mail and (when they choose it) the amount. The template writes
    its own inputs and shows ``messages`` (one per field, and "form")."""

    # No CSRF field of its own (the app's CSRFProtect checks every POST; the admin's
    # preview validates this form without one), only our catalogue's messages.
    Meta = CitizenMeta

    name = StringField(filters=[clip(200)], validators=[Length(min=2, message=_l("Vyplňte jméno a příjmení plátce."))])
    email = StringField(
        filters=[clip(254)],
        validators=[
            DataRequired(EMAIL_MESSAGE),
            ValidEmail(EMAIL_MESSAGE),
        ],
    )
    amount = StringField(filters=[clip(40)])
    # Hidden fields: the signed token of an obligation found by a lookup, and the
    # one-time token that makes a double submit find the same payment.
    obligation_token = TokenField()
    form_token = TokenField(max_length=64)

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


class SeveralForm(CitizenForm):
    """The payer's name and e-mail and the ticked obligations of a payment of several
    (``check`` with the obligations the household token names)."""

    name = StringField(filters=[clip(200)], validators=[Length(min=2, message=_l("Vyplňte jméno a příjmení plátce."))])
    email = StringField(
        filters=[clip(254)],
        validators=[
            DataRequired(EMAIL_MESSAGE),
            ValidEmail(EMAIL_MESSAGE),
            NoControlCharacters(message=EMAIL_MESSAGE),
        ],
    )
    item = KeysField(default=list)
    household_token = TokenField()
    form_token = TokenField(max_length=64)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.chosen: list[Obligation] = []
        self.messages: dict[str, str] = {}

    @property
    def keys(self) -> list[str]:
        return list(self.item.data or [])

    def check(self, obligations: list[Obligation]) -> bool:
        """The fields' validators, and at least one ticked obligation still to pay."""
        from app.obligations.household import chosen

        self.validate()
        self.chosen = [o for o in chosen(obligations, self.keys) if o.remaining > 0]
        self.messages = {}
        if not self.chosen:
            self.messages["items"] = _("Zaškrtněte alespoň jeden předpis, který chcete zaplatit.")
        self.messages.update(self.first_errors())
        return not self.messages


def lookup_error_message(text: str | None) -> str | None:
    """None when the lookup input is acceptable, else the message for the field."""
    try:
        normalize_lookup(text)
    except LookupInputError as exc:
        return message_for(exc)
    return None


def _lookup_rule(form: LookupForm, field: StringField) -> None:
    message = lookup_error_message(field.data)
    if message:
        raise ValidationError(message)


class LookupForm(FlaskForm):
    """The lookup of an obligation by customer ID or variable symbol. Its one rule is
    ``normalize_lookup``'s (app/obligations/lookup.py): whitespace folded (a tab from a
    pasted spreadsheet cell is a space), then letters, digits and a few marks only, so
    no CleanForm: a control character gets the lookup's own message."""

    Meta = CitizenMeta

    customer_id = StringField(filters=[clip(200, strip=False)], validators=[_lookup_rule])

    @property
    def query(self) -> str:
        return self.customer_id.data or ""

    @property
    def error(self) -> str | None:
        return str(self.customer_id.errors[0]) if self.customer_id.errors else None


def _offered_gateway(form: ReviewForm, field: StringField) -> None:
    # Only a gateway sent with the form is checked (without one the payment keeps its own).
    if field.raw_data and field.data not in form.offered:
        raise ValidationError(_("Vyberte jeden z nabízených způsobů platby."))


def _consent_given(form: ReviewForm, field: StringField) -> None:
    try:
        require_consent(field.data == "yes")
    except ConsentRequired as exc:
        raise ValidationError(message_for(exc)) from None


class ReviewForm(CitizenForm):
    """The review step: the payment method (one of ``offered``, when sent) and the
    consent to the terms and the privacy notice (``require_consent``)."""

    gateway = StringField(filters=[clip(30, strip=False)], validators=[_offered_gateway])
    consent = StringField(validators=[_consent_given])

    def __init__(self, *args, offered: list[str] | tuple[str, ...] = (), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.offered = offered

    @property
    def chosen_gateway(self) -> str | None:
        """The gateway the payer chose, None when the form sent none."""
        return self.gateway.data if self.gateway.raw_data else None

    @property
    def gateway_error(self) -> str | None:
        return str(self.gateway.errors[0]) if self.gateway.errors else None

    @property
    def consent_error(self) -> str | None:
        return str(self.consent.errors[0]) if self.consent.errors else None
