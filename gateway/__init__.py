"""Payment gateway adapters and their registry by name.

``gateway`` imports nothing from ``app``: adapters are built from plain settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateway.base import (
    CreatedPayment,
    Gateway,
    GatewayError,
    GatewayStatus,
    InvalidNotification,
    Notification,
    PaymentRequest,
    RefundResult,
    StatusResult,
)

Factory = Callable[[Mapping[str, Any]], Gateway]
_registry: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    _registry[name] = factory


def available() -> list[str]:
    return sorted(_registry)


def build(name: str, settings: Mapping[str, Any]) -> Gateway:
    try:
        factory = _registry[name]
    except KeyError:
        raise GatewayError(f"unknown gateway {name!r}") from None
    return factory(settings)


def _register_builtin() -> None:
    from gateway.btcpay import make_btcpay_gateway
    from gateway.demo import make_demo_gateway
    from gateway.gopay import make_gopay_gateway
    from gateway.gpwebpay import make_gpwebpay_gateway
    from gateway.stripe import make_stripe_gateway

    register("btcpay", make_btcpay_gateway)
    register("demo", make_demo_gateway)
    register("gopay", make_gopay_gateway)
    register("gpwebpay", make_gpwebpay_gateway)
    register("stripe", make_stripe_gateway)


_register_builtin()

__all__ = [
    "CreatedPayment",
    "Gateway",
    "GatewayError",
    "GatewayStatus",
    "InvalidNotification",
    "Notification",
    "PaymentRequest",
    "RefundResult",
    "StatusResult",
    "available",
    "build",
    "register",
]
