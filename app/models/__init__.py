"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.audit import AuditLog
from app.models.export import ExportJob, ExportStatus
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
    "MunicipalityStateChange",
    "OnboardingState",
    "PasswordReset",
    "Payment",
    "PaymentEvent",
    "PaymentMonthSummary",
    "PaymentState",
    "ROLE_RANK",
    "ReportDispatch",
    "Service",
    "ServiceStateChange",
    "StaffInvitation",
    "StaffRole",
    "StaffUser",
    "VariableSymbolRule",
]
