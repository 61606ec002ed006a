"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.audit import AuditLog
from app.models.export import ExportJob, ExportStatus
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
from app.models.staff import ROLE_RANK, PasswordReset, StaffInvitation, StaffRole, StaffUser

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AmountMode",
    "AuditLog",
    "Base",
    "DemoGatewayTransaction",
    "ExportJob",
    "ExportStatus",
    "GatewayNotification",
    "Municipality",
    "OnboardingState",
    "PasswordReset",
    "Payment",
    "PaymentEvent",
    "PaymentState",
    "ROLE_RANK",
    "Service",
    "StaffInvitation",
    "StaffRole",
    "StaffUser",
    "VariableSymbolRule",
]
