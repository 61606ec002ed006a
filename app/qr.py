"""QR Platba: the Czech SPAYD string for a bank transfer, its QR code and the same
details as text.

Everything payable offers a transfer: a fixed-price service (with the service's own
variable symbol), a created or started payment (with its unique one), and an obligation
(the obligations work passes its variable symbol and amount to ``bank_transfer``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from html import escape as html_escape

import segno
from markupsafe import Markup

from app.identifiers import normalize_iban
from app.money import to_decimal_string

MSG_MAX = 60
RN_MAX = 35
_VS_RE = re.compile(r"^\d{1,10}$")
_KS_RE = re.compile(r"^\d{1,10}$")


def spayd_escape(value: str) -> str:
    """SPAYD separates fields with ``*``: a ``*`` inside a value is written ``%2A``.

    Control characters (line breaks from a pasted text) would break bank apps, so they
    become spaces."""
    value = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return value.replace("*", "%2A")


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())  # one line, single spaces
    return value[:limit].rstrip()


def spayd(
    iban: str,
    amount: int,
    vs: str | None = None,
    message: str | None = None,
    recipient_name: str | None = None,
    *,
    constant_symbol: str | None = None,
    specific_symbol: str | None = None,
    due_date: date | None = None,
) -> str:
    """The SPAYD 1.0 string: ``SPD*1.0*ACC:…*AM:480.50*CC:CZK*X-VS:…*MSG:…*RN:…``.

    ``amount`` is in haléře; MSG is cut to 60 and RN to 35 characters before escaping."""
    iban = normalize_iban(iban)
    if not re.match(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$", iban):
        raise ValueError("invalid IBAN")
    if amount <= 0:
        raise ValueError("amount must be positive")
    if amount >= 10**9 * 100:
        raise ValueError("amount too large for SPAYD")
    fields = [f"ACC:{iban}", f"AM:{to_decimal_string(amount)}", "CC:CZK"]
    if due_date is not None:
        fields.append(f"DT:{due_date:%Y%m%d}")
    if message:
        clipped = _clip(message, MSG_MAX)
        if clipped:
            fields.append(f"MSG:{spayd_escape(clipped)}")
    if recipient_name:
        clipped = _clip(recipient_name, RN_MAX)
        if clipped:
            fields.append(f"RN:{spayd_escape(clipped)}")
    if vs:
        if not _VS_RE.match(vs):
            raise ValueError("variable symbol must be 1–10 digits")
        fields.append(f"X-VS:{vs}")
    if constant_symbol:
        if not _KS_RE.match(constant_symbol):
            raise ValueError("constant symbol must be digits")
        fields.append(f"X-KS:{constant_symbol}")
    if specific_symbol:
        if not _KS_RE.match(specific_symbol):
            raise ValueError("specific symbol must be digits")
        fields.append(f"X-SS:{specific_symbol}")
    return "*".join(["SPD", "1.0", *fields])


def qr_code(data: str) -> segno.QRCode:
    return segno.make(data, error="m", micro=False)


def qr_svg(data: str, label: str, *, scale: int = 4) -> Markup:
    """An inline SVG QR code that screen readers announce by ``label``."""
    svg = qr_code(data).svg_inline(
        scale=scale, border=4, light="#fff", svgclass="qr-code", lineclass=None, omitsize=True
    )
    svg = re.sub(r"^<svg", f'<svg role="img" aria-label="{html_escape(label)}"', svg, count=1)
    return Markup(svg)


def iban_to_czech_account(iban: str) -> str | None:
    """'CZ6508000000192000145399' → '19-2000145399/0800'; None for a non-Czech IBAN."""
    iban = normalize_iban(iban)
    if not re.match(r"^CZ\d{22}$", iban):
        return None
    bank, prefix, number = iban[4:8], iban[8:14].lstrip("0"), iban[14:24].lstrip("0")
    return f"{prefix}-{number}/{bank}" if prefix else f"{number}/{bank}"


def format_iban(iban: str) -> str:
    """Groups of four, as printed on statements: 'CZ65 0800 0000 1920 0014 5399'."""
    iban = normalize_iban(iban)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@dataclass(frozen=True)
class BankTransfer:
    """What a citizen needs for a transfer, as a QR code and as copyable text."""

    iban: str
    account: str | None  # Czech format, when the IBAN is Czech
    amount: int  # haléře
    variable_symbol: str | None
    constant_symbol: str | None
    message: str
    recipient_name: str
    spayd: str
    specific_symbol: str | None = None

    @property
    def iban_display(self) -> str:
        return format_iban(self.iban)

    @property
    def amount_text(self) -> str:
        """The amount as a bank form wants it (decimal comma, no spaces)."""
        return to_decimal_string(self.amount).replace(".", ",")

    def svg(self, label: str) -> Markup:
        return qr_svg(self.spayd, label)


def bank_transfer(
    iban: str | None,
    amount: int | None,
    vs: str | None,
    message: str,
    recipient_name: str,
    *,
    constant_symbol: str | None = None,
    specific_symbol: str | None = None,
) -> BankTransfer | None:
    """A transfer to ``iban``; None when the municipality has no account or there is no
    fixed amount (the payer would have to type one: use the card flow then)."""
    if not iban or not amount or amount <= 0:
        return None
    message = _clip(message, MSG_MAX)
    recipient_name = _clip(recipient_name, RN_MAX)
    constant_symbol = constant_symbol if constant_symbol and _KS_RE.match(constant_symbol) else None
    specific_symbol = specific_symbol if specific_symbol and _VS_RE.match(specific_symbol) else None
    vs = vs if vs and _VS_RE.match(vs) else None
    try:
        data = spayd(
            iban, amount, vs, message, recipient_name, constant_symbol=constant_symbol, specific_symbol=specific_symbol
        )
    except ValueError:
        return None
    return BankTransfer(
        iban=normalize_iban(iban),
        account=iban_to_czech_account(iban),
        amount=amount,
        variable_symbol=vs,
        constant_symbol=constant_symbol,
        message=message,
        recipient_name=recipient_name,
        spayd=data,
        specific_symbol=specific_symbol,
    )


def account_for(service) -> str | None:  # type: ignore[no-untyped-def]
    """The IBAN money for ``service`` goes to: the service's own account when it has one
    (a fee collected on a separate account), else the municipality's."""
    return getattr(service, "iban", None) or service.municipality.iban


def transfer_for_payment(payment) -> BankTransfer | None:  # type: ignore[no-untyped-def]
    """A payment's own transfer: its amount and its unique variable symbol."""
    service, municipality = payment.service, payment.municipality
    return bank_transfer(
        account_for(service),
        payment.amount,
        payment.variable_symbol,
        f"{service.name}, {payment.payer_name}",
        municipality.name,
        constant_symbol=service.constant_symbol,
    )


def transfer_for_obligation(service, obligation) -> BankTransfer | None:  # type: ignore[no-untyped-def]
    """An obligation's transfer: what remains to pay, under the obligation's own variable
    symbol (the service-wide one would not match the payer's record)."""
    if not obligation.variable_symbol:
        return None
    return bank_transfer(
        account_for(service),
        obligation.remaining,
        obligation.variable_symbol,
        service.name,
        service.municipality.name,
        constant_symbol=service.constant_symbol,
        specific_symbol=getattr(obligation, "specific_symbol", None),
    )


def transfer_for_service(service) -> BankTransfer | None:  # type: ignore[no-untyped-def]
    """A fixed-price service whose every payer uses the same variable symbol.

    Services that give each payment its own symbol get the QR code after the payer
    fills in the form (on the review page), so the transfer can be matched."""
    from app.models import AmountMode, VariableSymbolRule

    if service.amount_mode != AmountMode.FIXED or service.vs_rule != VariableSymbolRule.FIXED:
        return None
    return bank_transfer(
        account_for(service),
        service.amount,
        service.variable_symbol,
        service.name,
        service.municipality.name,
        constant_symbol=service.constant_symbol,
    )
