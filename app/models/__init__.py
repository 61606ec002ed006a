"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.municipality import Municipality, OnboardingState
from app.models.onboarding import MunicipalityStateChange, ServiceStateChange
from app.models.payment import (
    ALLOWED_TRANSITIONS,
    DemoGatewayTransaction,
    GatewayNotification,
    Payment,
    PaymentEvent,
    PaymentState,
)
from app.models.reporting import PaymentMonthSummary, ReportDispatch
from app.models.service import AmountMode, Service, VariableSymbolRule

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AmountMode",
    "Base",
    "DemoGatewayTransaction",
    "GatewayNotification",
    "Municipality",
    "MunicipalityStateChange",
    "OnboardingState",
    "Payment",
    "PaymentEvent",
    "PaymentMonthSummary",
    "PaymentState",
    "ReportDispatch",
    "Service",
    "ServiceStateChange",
    "VariableSymbolRule",
]
