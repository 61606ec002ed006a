"""The payment channels the public statistics count a payment in, from its gateway:
card (every card gateway), bank transfer and Bitcoin. One function, for anyone who
groups payments by channel."""

from __future__ import annotations

from app.i18n import N_
from app.models.banking import BANK_TRANSFER
from app.reporting.monthly import channel_kind

BITCOIN_GATEWAY = "btcpay"
CARD, TRANSFER, BITCOIN = "card", "transfer", "bitcoin"
CHANNELS: tuple[str, ...] = (CARD, TRANSFER, BITCOIN)
CHANNEL_LABELS = {
    CARD: N_("Platební karta"),
    TRANSFER: N_("Bankovní převod"),
    BITCOIN: "Bitcoin",  # a name: the same in every language
}


def payment_channel(gateway_name: str) -> str:
    """The channel of a payment's ``gateway_name``: "card", "transfer" or "bitcoin".

    The same keys as the reports' ``channel_kind`` once Bitcoin is its own channel there
    (it then answers all three and this can simply return it)."""
    if gateway_name == BITCOIN_GATEWAY:
        return BITCOIN
    # The reports' own rule for transfers and cards (app.reporting.monthly).
    if gateway_name == BANK_TRANSFER or channel_kind(gateway_name) == "transfer":
        return TRANSFER
    return CARD
