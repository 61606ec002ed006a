"""Payments in words for people: state names, gateway names and a payment's history
(its events are stored in the code's terms: ``transition``, ``gateway_message``,
"created at gateway", "payment.paid"). Strings are marked with ``N_`` and translated
where they are shown; exports, which have no request, use the Czech source."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext

from app.i18n import N_
from app.models import PaymentEvent, PaymentState

STATE_LABELS = {
    PaymentState.CREATED: N_("Založena"),
    PaymentState.STARTED: N_("Na bráně"),
    PaymentState.PAID: N_("Zaplacena"),
    PaymentState.FAILED: N_("Zamítnuta"),
    PaymentState.CANCELLED: N_("Zrušena"),
    PaymentState.EXPIRED: N_("Vypršela"),
    PaymentState.PARTIALLY_REFUNDED: N_("Částečně vrácena"),
    PaymentState.REFUNDED: N_("Vrácena"),
}

GATEWAY_LABELS = {
    "demo": N_("Demo brána"),
    "stripe": N_("Platební karta (Stripe)"),
    "bank_transfer": N_("Bankovní převod"),
}

# Names that are the same in every language.
GATEWAY_NAMES = {"gopay": "GoPay", "gpwebpay": "GP webpay", "btcpay": "Bitcoin (BTCPay)"}

EVENT_KINDS = {
    "transition": N_("Změna stavu"),
    "gateway_message": N_("Zpráva platební brány"),
    "refund": N_("Vrácení"),
}

# Where a state change came from (the ``source`` part of a reason).
SOURCES = {
    "return page": N_("návrat plátce z brány"),
    "card confirmation": N_("potvrzení platby kartou"),
    "job": N_("kontrola stavu na bráně"),
    "expiry check": N_("kontrola před vypršením"),
    "status poll": N_("pravidelná kontrola stavu"),
    "notification": N_("oznámení platební brány"),
}

# Whole reasons.
REASONS = {
    "created": N_("Platba založena"),
    "created at gateway": N_("Platba založena na platební bráně"),
    "abandoned": N_("Plátce platbu nedokončil, vypršela"),
    "gateway not allowed": N_("Tato platební brána není pro obec povolena"),
    "gateway refused": N_("Platební brána platbu nepřijala"),
    "gateway chosen": N_("Plátce zvolil platební bránu"),
    "gateway unavailable": N_("Platební brána neodpověděla"),
    "amount mismatch": N_("Platební brána hlásí jinou částku"),
    "card confirmation refused": N_("Platba kartou nebyla potvrzena"),
    "bank transfer: matched": N_("Spárováno s bankovním převodem"),
    "bank transfer: manual match": N_("Ručně spárováno s bankovním převodem"),
}

# The last word of a gateway's event type ("payment.paid", "gpwebpay.return.failed").
EVENT_TYPES = {
    "paid": N_("zaplaceno"),
    "succeeded": N_("zaplaceno"),
    "settled": N_("zaplaceno"),
    "failed": N_("platba se nezdařila"),
    "payment_failed": N_("platba se nezdařila"),
    "cancelled": N_("zrušeno plátcem"),
    "canceled": N_("zrušeno plátcem"),
    "expired": N_("vypršelo"),
    "refunded": N_("vráceno"),
    "started": N_("plátce je na bráně"),
    "processing": N_("čeká na potvrzení"),
}


@dataclass(frozen=True)
class EventWords:
    kind: str
    text: str


def state_label(state: str, translate: bool = True) -> str:
    label = STATE_LABELS.get(state)  # type: ignore[call-overload]
    if label is None:
        return state
    return gettext(label) if translate else label


def gateway_label(name: str, translate: bool = True) -> str:
    label = GATEWAY_LABELS.get(name)
    if label is None:
        return GATEWAY_NAMES.get(name, name)
    return gettext(label) if translate else label


def _source(text: str) -> str:
    if text.startswith("notification"):
        return gettext(SOURCES["notification"])
    return gettext(SOURCES[text]) if text in SOURCES else text


def _event_type(text: str) -> str | None:
    last = re.split(r"[._]", text.strip())[-1].lower() if text.strip() else ""
    key = text.rsplit(".", 1)[-1].lower()
    for k in (key, last):
        if k in EVENT_TYPES:
            return gettext(EVENT_TYPES[k])
    return None


def describe_reason(reason: str) -> str:
    """An event's stored reason in words."""
    reason = (reason or "").strip()
    if not reason:
        return ""
    if reason in REASONS:
        return gettext(REASONS[reason])
    if reason.startswith("refund: "):
        return gettext("Vrácení peněz: %(r)s", r=reason.removeprefix("refund: "))
    if m := re.fullmatch(r"bank match undone \(line (\d+)\)", reason):
        return gettext("Zrušeno spárování s bankovním převodem (řádek výpisu %(n)s)", n=m.group(1))
    if m := re.fullmatch(r"(.+): seen at gateway", reason):
        return gettext("Plátce je na platební bráně (%(s)s)", s=_source(m.group(1)))
    if m := re.fullmatch(r"(.+): refunded at the gateway", reason):
        return gettext("Vráceno přímo na platební bráně (%(s)s)", s=_source(m.group(1)))
    if m := re.fullmatch(r"(.+): gateway says (\S+)", reason):
        said = _event_type(m.group(2)) or state_label(m.group(2))
        return gettext("Platební brána hlásí: %(w)s (%(s)s)", w=said, s=_source(m.group(1)))
    if reason in SOURCES or reason.startswith("notification"):
        return gettext("Podle: %(s)s", s=_source(reason))
    if re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", reason):
        said = _event_type(reason)
        return gettext("Oznámení platební brány: %(w)s", w=said) if said else gettext("Oznámení platební brány")
    return reason


def describe_event(event: PaymentEvent) -> EventWords:
    kind = EVENT_KINDS.get(event.kind)
    return EventWords(gettext(kind) if kind else event.kind, describe_reason(event.reason))
