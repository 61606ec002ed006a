"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.citizen import Citizen, CitizenCustomerId
from app.models.municipality import Municipality, OnboardingState
from app.models.payment import (
    ALLOWED_TRANSITIONS,
    DemoGatewayTransaction,
    GatewayNotification,
    Payment,
    PaymentEvent,
    PaymentState,
)
from app.models.service import AmountMode, Service, VariableSymbolRule

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AmountMode",
    "Base",
    "Citizen",
    "CitizenCustomerId",
    "DemoGatewayTransaction",
    "GatewayNotification",
    "Municipality",
    "OnboardingState",
    "Payment",
    "PaymentEvent",
    "PaymentState",
    "Service",
    "VariableSymbolRule",
]
