"""One place mapping domain error codes to translated messages (Czech source strings,
English from the catalogue): ``message_for(error)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from app.errors import DomainError
from app.money import format_czk


def _czk(value: Any) -> str:
    return format_czk(value)


Message = Callable[[dict[str, Any]], str]

# {domain.code: message}; "domain.*" is the domain's fallback. Lambdas, so the text is
# translated in the locale of the request that shows it.
MESSAGES: dict[str, Message] = {
    # an amount typed in crowns (app.money.parse_czk)
    "money.missing": lambda p: _("Zadejte částku."),
    "money.negative": lambda p: _("Částka nesmí být záporná."),
    "money.too_large": lambda p: _("Částka je příliš vysoká."),
    "money.*": lambda p: _("Částka musí být číslo v korunách, např. 500 nebo 499,50."),
    # creating and starting a payment
    "payment.service_inactive": lambda p: _("Tuto službu nyní nelze zaplatit."),
    "payment.*": lambda p: _("Tuto službu nyní nelze zaplatit."),
    # the amount of a service (fixed or payer's within limits)
    "amount.not_positive": lambda p: _("Částka musí být větší než nula."),
    "amount.below_min": lambda p: _("Nejnižší možná částka je %(limit)s.", limit=_czk(p["limit"])),
    "amount.above_max": lambda p: _("Nejvyšší možná částka je %(limit)s.", limit=_czk(p["limit"])),
    "amount.*": lambda p: _("Zadejte částku."),
    # the amount of an obligation (předpis)
    "obligation_amount.already_paid": lambda p: _("Tento předpis je již zaplacen."),
    "obligation_amount.not_positive": lambda p: _("Částka musí být větší než nula."),
    "obligation_amount.below_min": lambda p: _("Zaplaťte alespoň %(limit)s.", limit=_czk(p["limit"])),
    "obligation_amount.above_max": lambda p: _(
        "Zaplatit můžete nejvýše %(limit)s, tedy zbývající dlužnou částku.", limit=_czk(p["limit"])
    ),
    "obligation_amount.*": lambda p: _("Zadejte částku."),
    # refunds by staff
    "refund.not_refundable": lambda p: _("Tuto platbu nelze vrátit: není zaplacená nebo už byla vrácena celá."),
    "refund.refund_amount": lambda p: _("Částka k vrácení musí být kladná a nejvýše %(max)s.", max=_czk(p["max"])),
    "refund.refund_reason": lambda p: _("Uveďte důvod vrácení."),
    "refund.no_counter_account": lambda p: _(
        "U převodu chybí účet odesílatele, kam peníze vrátit. Vraťte je podle výpisu z banky."
    ),
    "refund.not_to_be_sent": lambda p: _("Toto vrácení už není k odeslání."),
    "refund.*": lambda p: _("Platební brána vrácení odmítla. Zkuste to později nebo kontaktujte operátora."),
    # card payments on our page
    "card.invalid_card_token": lambda p: _("Údaje o kartě se nepodařilo ověřit. Zadejte je prosím znovu."),
    "card.not_started": lambda p: _("Platba ještě nebyla zahájena."),
    "card.no_card_form": lambda p: _("Tuto platbu nelze zaplatit kartou na této stránce."),
    "card.*": lambda p: _("Platbu se nepodařilo odeslat. Zkuste to prosím znovu."),
    # the payer's lookup of an obligation
    "lookup.missing": lambda p: _("Zadejte zákaznické číslo nebo variabilní symbol."),
    "lookup.too_long": lambda p: _(
        "Zákaznické číslo ani variabilní symbol nemají víc než 100 znaků. Zkontrolujte, co jste zadali."
    ),
    "lookup.expired": lambda p: _("Platnost vyhledání vypršela. Vyhledejte svůj předpis znovu."),
    "lookup.required": lambda p: _("Nejprve vyhledejte svůj předpis podle zákaznického čísla."),
    "lookup.*": lambda p: _(
        "Zákaznické číslo nebo variabilní symbol smí obsahovat jen písmena, číslice, mezery a znaky - / . _"
    ),
    # the payer's consent on the review page
    "consent.required": lambda p: _(
        "Pro platbu je třeba souhlasit s obchodními podmínkami a vzít na vědomí zpracování osobních údajů."
    ),
}


def message_for(error: DomainError) -> str:
    """The translated message for a domain error (its domain's fallback when the code has none)."""
    message = MESSAGES.get(error.key) or MESSAGES.get(f"{error.domain}.*")
    if message is None:
        raise KeyError(f"no message for {error.key}")
    return message(error.params)
