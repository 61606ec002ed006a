"""The citizen account's forms (Flask-WTF, app/validation.py's CitizenForm): the profile,
a claimed customer ID and the erasure's confirmation. Messages in Czech (English when
chosen); the rules that need the database stay in app/citizens/accounts.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import AnyOf, Length, Optional, Regexp

from app.citizens.accounts import CUSTOMER_ID_RE
from app.mail import ValidEmail
from app.validation import CitizenForm, NoControlCharacters, clip

EMAIL_MESSAGE = _l("Zadejte platnou e-mailovou adresu, např. jana.novakova@example.cz.")
CUSTOMER_ID_MESSAGE = _l("Číslo plátce může obsahovat jen písmena, číslice a znaky / - _ . (nejvýše 50 znaků).")
MUNICIPALITY_MESSAGE = _l("Vyberte obec ze seznamu.")


class ProfileForm(CitizenForm):
    """Name (at least two characters) and an optional e-mail."""

    name = StringField(filters=[clip(200)], validators=[Length(min=2, message=_l("Vyplňte jméno a příjmení."))])
    email = StringField(
        filters=[clip(254)],
        validators=[
            Optional(),
            ValidEmail(EMAIL_MESSAGE),
            # An e-mail with a control character is just not a valid address.
            NoControlCharacters(message=EMAIL_MESSAGE),
        ],
    )


class CustomerIdForm(CitizenForm):
    """A customer ID the citizen claims in a municipality (whether the municipality
    exists and is active is checked by ``claim_customer_id``)."""

    municipality = StringField(
        filters=[clip(200, strip=False)],
        validators=[NoControlCharacters(message=MUNICIPALITY_MESSAGE)],
    )
    customer_id = StringField(
        filters=[clip(200)],
        validators=[Regexp(CUSTOMER_ID_RE, message=CUSTOMER_ID_MESSAGE)],
    )

    def message(self) -> str | None:
        """The one message to flash: the customer ID's before the municipality's."""
        errors = self.first_errors()
        return errors.get("customer_id") or errors.get("municipality")


class EraseForm(CitizenForm):
    """The erasure needs its checkbox ticked (value "1")."""

    confirm = StringField(validators=[AnyOf(["1"], message=_l("Potvrďte prosím, že chcete účet smazat."))])
