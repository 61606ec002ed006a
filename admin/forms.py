"""Admin forms (Flask-WTF: every form carries a CSRF token). Messages in Czech; the
business rules themselves live in the domain packages of app/."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.mail import ValidEmail
from app.models import AmountMatch, AmountMode, LookupMode, StaffRole, VariableSymbolRule

# Every admin form's text fields refuse control characters (app/validation.py).
from app.validation import CleanForm as FlaskForm
from app.validation import DayError, parse_day

ROLE_LABELS = {
    StaffRole.VIEWER: _l("Čtenář (jen prohlížení)"),
    StaffRole.CLERK: _l("Úředník (platby, vrácení, exporty)"),
    StaffRole.MUNICIPALITY_ADMIN: _l("Správce obce (služby, tým, nastavení)"),
    StaffRole.OPERATOR: _l("Operátor kraje (všechny obce kraje)"),
    StaffRole.NATIONAL: _l("Celostátní koordinátor (všechny kraje)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (logout, deactivate, export…)."""


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Vyplňte e-mail.")), Length(max=254)])
    password = PasswordField(_l("Heslo"), validators=[DataRequired(_l("Vyplňte heslo.")), Length(max=200)])


class TotpForm(FlaskForm):
    code = StringField(
        _l("Šestimístný kód z aplikace"),
        validators=[
            DataRequired(_l("Zadejte kód z ověřovací aplikace.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Kód má 6 číslic.")),
        ],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nové heslo (alespoň 12 znaků)"),
        validators=[
            DataRequired(_l("Zadejte heslo.")),
            Length(min=12, max=200, message=_l("Heslo musí mít 12 až 200 znaků.")),
        ],
    )
    password2 = PasswordField(
        _l("Heslo znovu"),
        validators=[
            DataRequired(_l("Zadejte heslo ještě jednou.")),
            EqualTo("password", _l("Hesla se neshodují.")),
        ],
    )


class AcceptInvitationForm(SetPasswordForm):
    name = StringField(
        _l("Jméno a příjmení"), validators=[DataRequired(_l("Vyplňte jméno a příjmení.")), Length(max=200)]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Vyplňte e-mail.")),
            ValidEmail(_l("Zadejte platnou e-mailovou adresu.")),
            Length(max=254),
        ],
    )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Vyplňte e-mail.")),
            ValidEmail(_l("Zadejte platnou e-mailovou adresu.")),
            Length(max=254),
        ],
    )
    name = StringField(_l("Jméno a příjmení"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Vyberte roli."))])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Vyberte roli."))])


class ServiceForm(FlaskForm):
    # Required-ness and the rest are checked by app.catalog.settings, so every
    # mistake is reported at once.
    name = StringField(_l("Název služby"), validators=[Optional(), Length(max=200)])
    slug = StringField(_l("Adresa služby v portálu (nepovinné)"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Popis pro občany"), validators=[Optional(), Length(max=4000)])
    account = StringField(
        _l("Účet pro platby (IBAN nebo číslo účtu; prázdné = účet obce)"), validators=[Optional(), Length(max=60)]
    )
    amount_mode = RadioField(
        _l("Cena"),
        choices=[(AmountMode.FIXED, _l("Pevná cena")), (AmountMode.PAYER, _l("Částku zadá plátce"))],
        default=AmountMode.FIXED,
        validate_choice=False,
    )
    amount = StringField(_l("Pevná cena v Kč"), validators=[Optional(), Length(max=20)])
    amount_min = StringField(_l("Nejnižší částka v Kč (nepovinné)"), validators=[Optional(), Length(max=20)])
    amount_max = StringField(_l("Nejvyšší částka v Kč (nepovinné)"), validators=[Optional(), Length(max=20)])
    vs_rule = RadioField(
        _l("Variabilní symbol"),
        choices=[
            (VariableSymbolRule.PER_PAYMENT, _l("Každá platba vlastní (předčíslí + pořadí)")),
            (VariableSymbolRule.FIXED, _l("Stejný pro všechny platby")),
        ],
        default=VariableSymbolRule.PER_PAYMENT,
        validate_choice=False,
    )
    variable_symbol = StringField(_l("Variabilní symbol nebo jeho předčíslí"), validators=[Optional(), Length(max=10)])
    constant_symbol = StringField(_l("Konstantní symbol (nepovinné)"), validators=[Optional(), Length(max=4)])
    period = StringField(_l("Období (např. rok 2026)"), validators=[Optional(), Length(max=40)])
    due_date = StringField(_l("Splatnost (např. do 31. 3.)"), validators=[Optional(), Length(max=40)])
    allowed_gateways = MultiCheckboxField(_l("Povolené platební brány"), validate_choice=False)
    lookup_mode = RadioField(
        _l("Vyhledání předpisu podle zákaznického čísla"),
        choices=[
            (LookupMode.NONE, _l("Nepoužívá se (služba nemá seznam plátců)")),
            (LookupMode.OPTIONAL, _l("Nepovinné (plátce může vyhledat svůj předpis, nebo zaplatit bez něj)")),
            (LookupMode.REQUIRED, _l("Povinné (zaplatit lze jen předpis nalezený podle zákaznického čísla)")),
        ],
        default=LookupMode.NONE,
        validate_choice=False,
    )
    amount_match = RadioField(
        _l("Částka placená k předpisu"),
        choices=[
            (AmountMatch.EXACT, _l("Přesně zbývající částka předpisu")),
            (AmountMatch.AT_LEAST, _l("Nejméně zbývající částka (přeplatek je možný)")),
            (AmountMatch.AT_MOST, _l("Nejvýše zbývající částka (lze platit po částech)")),
            (AmountMatch.ANY, _l("Libovolná částka")),
        ],
        default=AmountMatch.EXACT,
        validate_choice=False,
    )
    active = BooleanField(_l("Služba je aktivní (občané ji vidí)"), default=True)


class RefundForm(FlaskForm):
    amount = StringField(
        _l("Částka k vrácení v Kč"), validators=[DataRequired(_l("Zadejte částku k vrácení.")), Length(max=20)]
    )
    reason = TextAreaField(
        _l("Důvod vrácení"),
        validators=[
            DataRequired(_l("Uveďte důvod vrácení.")),
            Length(max=180, message=_l("Důvod může mít nejvýše 180 znaků.")),
        ],
    )


class RefundSentForm(FlaskForm):
    """A bank transfer's refund the clerk sent from the bank (the refund named in the body)."""

    refund = HiddenField(validators=[DataRequired()])


class SettingsForm(FlaskForm):
    mode = RadioField(
        _l("Režim plateb"),
        choices=[("demo", _l("Zkušební režim (jen demo brána, platby nejsou skutečné)")), ("live", _l("Ostrý provoz"))],
        validators=[DataRequired(_l("Vyberte režim."))],
    )
    account = StringField(_l("Účet obce (IBAN nebo číslo účtu)"), validators=[Optional(), Length(max=60)])
    reminder_days_before = IntegerField(
        _l("Připomínka e-mailem: kolik dní před splatností (prázdné = neposílat)"),
        validators=[Optional(), NumberRange(1, 90, _l("Zadejte počet dní od 1 do 90."))])
    reminder_days_after = IntegerField(
        _l("Upomínka e-mailem: kolik dní po splatnosti (prázdné = neposílat)"),
        validators=[Optional(), NumberRange(1, 180, _l("Zadejte počet dní od 1 do 180."))])


class ExportForm(FlaskForm):
    format = HiddenField(validators=[DataRequired()])


class ObligationImportForm(FlaskForm):
    # The file's type, size and content are checked by app.obligations (one Czech message each).
    file = FileField(_l("Soubor se seznamem předpisů (CSV nebo XLSX)"))
    allow_partial = BooleanField(_l("Importovat jen bezchybné řádky (chybné vynechat)"), default=False)


def _strip(value):  # type: ignore[no-untyped-def]
    return value.strip() if isinstance(value, str) else value


class IsoDate:
    """A date typed as RRRR-MM-DD (the browser's date input) within 2000–2100
    (app.validation.parse_day); the text stays the field's data."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form, field) -> None:  # type: ignore[no-untyped-def]
        try:
            parse_day(field.data or "")  # also refuses a day outside 2000–2100
        except DayError:
            raise ValidationError(self.message) from None


class NewMunicipalityForm(FlaskForm):
    """The operator's new municipality; name, IČO and state are checked by
    app.onboarding.pipeline.create_municipality."""

    name = StringField(filters=[_strip])
    ico = StringField(filters=[_strip])
    district = StringField(filters=[_strip])
    state = StringField(filters=[_strip])
    date = StringField(filters=[_strip], validators=[IsoDate(_l("Zadejte datum ve tvaru RRRR-MM-DD."))])
    note = TextAreaField(filters=[_strip])
    admin_email = StringField(
        filters=[_strip], validators=[Optional(), ValidEmail(_l("Zadejte platný e-mail správce obce."))]
    )
    admin_name = StringField(filters=[_strip])


class RegionSettingsForm(FlaskForm):
    """A region's settings; checked by app.regions.settings.update_region_settings."""

    name_genitive = StringField(filters=[_strip], validators=[Length(max=200)])
    operator_name = StringField(filters=[_strip], validators=[Length(max=300)])
    contact_email = StringField(filters=[_strip], validators=[Length(max=254)])
    contact_phone = StringField(filters=[_strip], validators=[Length(max=40)])
    web_url = StringField(filters=[_strip], validators=[Length(max=300)])
    footer_text = TextAreaField(filters=[_strip], validators=[Length(max=1000)])
    logo_url = StringField(filters=[_strip], validators=[Length(max=300)])
    primary_color = StringField(filters=[_strip], validators=[Length(max=7)])
    report_recipients = TextAreaField(filters=[_strip], validators=[Length(max=2000)])


class StateChangeForm(FlaskForm):
    """A municipality's next onboarding state; the pipeline checks the move itself."""

    state = StringField(filters=[_strip], validators=[DataRequired(_l("Vyberte nový stav."))])
    date = StringField(filters=[_strip], validators=[IsoDate(_l("Zadejte datum ve tvaru RRRR-MM-DD."))])
    note = TextAreaField(filters=[_strip])


def form_values(form: FlaskForm) -> dict[str, str]:
    """The fields' texts, for templates that write their own inputs."""
    return {f.name: f.data or "" for f in form if f.name != "csrf_token"}


def first_errors(form: FlaskForm) -> dict[str, str]:
    """One message per field, as the templates show them."""
    return {name: str(errors[0]) for name, errors in form.errors.items() if errors and name != "csrf_token"}
