"""Stripe adapter (PaymentIntents through the official SDK). Filled in by the Stripe work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.base import Gateway, GatewayError


def make_stripe_gateway(settings: Mapping[str, Any]) -> Gateway:
    raise GatewayError("stripe gateway is not configured")
