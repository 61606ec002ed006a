"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.citizen import Citizen, CitizenCustomerId
from app.models.consent import ConsentKind, ConsentRecord, ConsentText
from app.models.municipality import Municipality, OnboardingState
from app.models.obligation import (
    AmountMatch,
    ImportStatus,
    LookupMode,
    Obligation,
    ObligationImport,
    ObligationState,
)
from app.models.payment import (
    ALLOWED_TRANSITIONS,
    DemoGatewayTransaction,
    GatewayNotification,
    Payment,
    PaymentEvent,
    PaymentState,
)
from app.models.receipt import Receipt, ReceiptCounter
from app.models.service import AmountMode, Service, VariableSymbolRule

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AmountMatch",
    "AmountMode",
    "Base",
    "ConsentKind",
    "ConsentRecord",
    "ConsentText",
    "Citizen",
    "CitizenCustomerId",
    "DemoGatewayTransaction",
    "GatewayNotification",
    "ImportStatus",
    "LookupMode",
    "Municipality",
    "Obligation",
    "ObligationImport",
    "ObligationState",
    "OnboardingState",
    "Payment",
    "PaymentEvent",
    "PaymentState",
    "Receipt",
    "ReceiptCounter",
    "Service",
    "VariableSymbolRule",
]
