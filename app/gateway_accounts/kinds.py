"""What each gateway's account holds: its fields, which are secret, and how they become the
adapter's settings (the keys ``gateway/<name>`` reads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.i18n import N_
from gateway.gopay import PRODUCTION_URL as GOPAY_PRODUCTION_URL
from gateway.gopay import SANDBOX_URL as GOPAY_SANDBOX_URL
from gateway.gpwebpay import PRODUCTION_URL as GPWEBPAY_PRODUCTION_URL
from gateway.gpwebpay import TEST_URL as GPWEBPAY_TEST_URL


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    secret: bool = False
    required: bool = True
    multiline: bool = False  # PEM keys
    setting: str = ""  # the adapter's settings key
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # the clerk's name for it
    fields: tuple[Field, ...] = ()
    # The gateway's base URL for sandbox/production, when an override field is empty.
    default_urls: Mapping[str, str] = field(default_factory=dict)
    url_setting: str = ""
    extra: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    @property
    def plain_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)


_URL_HINT = N_("Nechte prázdné: adresu určí režim (zkušební / ostrý).")

KINDS: dict[str, Kind] = {
    "gopay": Kind(
        "gopay",
        "GoPay",
        (
            Field("goid", "GoID", setting="GOPAY_GOID"),
            Field("client_id", "Client ID", setting="GOPAY_CLIENT_ID"),
            Field("client_secret", "Client secret", secret=True, setting="GOPAY_CLIENT_SECRET"),
            Field("gateway_url", N_("Adresa brány"), required=False, setting="GOPAY_GATEWAY_URL", hint=_URL_HINT),
        ),
        default_urls={"sandbox": GOPAY_SANDBOX_URL, "production": GOPAY_PRODUCTION_URL},
        url_setting="GOPAY_GATEWAY_URL",
    ),
    "gpwebpay": Kind(
        "gpwebpay",
        "GP webpay",
        (
            Field("merchant_number", N_("Číslo obchodníka"), setting="GPWEBPAY_MERCHANT_NUMBER"),
            Field(
                "private_key",
                N_("Soukromý klíč obchodníka (PEM)"),
                secret=True,
                multiline=True,
                setting="GPWEBPAY_PRIVATE_KEY",
            ),
            Field(
                "private_key_passphrase",
                N_("Heslo soukromého klíče"),
                secret=True,
                required=False,
                setting="GPWEBPAY_PRIVATE_KEY_PASSPHRASE",
            ),
            Field("public_key", N_("Veřejný klíč brány (PEM)"), multiline=True, setting="GPWEBPAY_PUBLIC_KEY"),
            Field(
                "digest_algorithm",
                N_("Hashovací algoritmus podpisu"),
                required=False,
                choices=("sha1", "sha256"),
                setting="GPWEBPAY_DIGEST_ALGORITHM",
            ),
            Field("provider", N_("Kód poskytovatele (provider)"), required=False, setting="GPWEBPAY_PROVIDER"),
            Field("gateway_url", N_("Adresa brány"), required=False, setting="GPWEBPAY_GATEWAY_URL", hint=_URL_HINT),
            Field("ws_url", N_("Adresa webové služby"), required=False, setting="GPWEBPAY_WS_URL"),
        ),
        default_urls={"sandbox": GPWEBPAY_TEST_URL, "production": GPWEBPAY_PRODUCTION_URL},
        url_setting="GPWEBPAY_GATEWAY_URL",
    ),
    "btcpay": Kind(
        "btcpay",
        "Bitcoin (BTCPay Server)",
        (
            Field("url", N_("Adresa BTCPay Serveru"), setting="BTCPAY_URL"),
            Field("store_id", "Store ID", setting="BTCPAY_STORE_ID"),
            Field(
                "api_key",
                N_("API klíč"),
                secret=True,
                setting="BTCPAY_API_KEY",
                hint=N_("Jen oprávnění: zobrazit a vytvářet faktury, vytvářet pull payments."),
            ),
            Field("webhook_secret", N_("Tajemství webhooku"), secret=True, setting="BTCPAY_WEBHOOK_SECRET"),
            Field("invoice_minutes", N_("Platnost faktury (minuty)"), required=False, setting="BTCPAY_INVOICE_MINUTES"),
        ),
    ),
    "stripe": Kind(
        "stripe",
        N_("Platební karta (Stripe)"),
        (
            Field("publishable_key", "Publishable key", setting="STRIPE_PUBLISHABLE_KEY"),
            Field("secret_key", "Secret key", secret=True, setting="STRIPE_SECRET_KEY"),
            Field("webhook_secret", "Webhook secret", secret=True, setting="STRIPE_WEBHOOK_SECRET"),
            Field("api_base", N_("Adresa API"), required=False, setting="STRIPE_API_BASE", hint=_URL_HINT),
        ),
    ),
    "demo": Kind("demo", N_("Demo brána (zkušební)")),
}

# The order gateways are offered in on the review page.
ORDER = ("gopay", "gpwebpay", "stripe", "btcpay", "demo")


def kind(name: str) -> Kind | None:
    return KINDS.get(name)
