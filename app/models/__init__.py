"""Typed SQLAlchemy models, one module per aggregate."""

from app.db import Base
from app.models.api import (
    API_SCOPES,
    ApiKey,
    IdempotencyRecord,
    NoticeBatch,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.audit import AuditLog
from app.models.banking import BANK_TRANSFER, BankAccount, BankLine, BankLineMatch, BankStatement, LineStatus
from app.models.citizen import Citizen, CitizenCustomerId
from app.models.consent import ConsentKind, ConsentRecord, ConsentText
from app.models.export import ExportJob, ExportStatus
from app.models.gateway_account import GatewayAccount, GatewayMode
from app.models.municipality import Municipality, OnboardingState
from app.models.obligation import (
    AmountMatch,
    ImportStatus,
    LookupMode,
    Obligation,
    ObligationImport,
    ObligationState,
)
from app.models.onboarding import MunicipalityStateChange, ServiceStateChange
from app.models.payment import (
    ALLOWED_TRANSITIONS,
    DemoGatewayTransaction,
    GatewayNotification,
    Payment,
    PaymentEvent,
    PaymentItem,
    PaymentState,
)
from app.models.receipt import Receipt, ReceiptCounter
from app.models.refund import Refund, RefundState
from app.models.region import Region
from app.models.reminder import ObligationReminder, ReminderKind, ReminderOptOut
from app.models.reporting import PaymentMonthSummary, ReportDispatch
from app.models.service import AmountMode, Service, VariableSymbolRule
from app.models.staff import OVER_MUNICIPALITIES, ROLE_RANK, PasswordReset, StaffInvitation, StaffRole, StaffUser

__all__ = [
    "API_SCOPES",
    "ApiKey",
    "IdempotencyRecord",
    "NoticeBatch",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "ALLOWED_TRANSITIONS",
    "AmountMatch",
    "AmountMode",
    "AuditLog",
    "BANK_TRANSFER",
    "BankAccount",
    "BankLine",
    "BankLineMatch",
    "BankStatement",
    "LineStatus",
    "Base",
    "ConsentKind",
    "ConsentRecord",
    "ConsentText",
    "Citizen",
    "CitizenCustomerId",
    "DemoGatewayTransaction",
    "ExportJob",
    "ExportStatus",
    "GatewayAccount",
    "GatewayMode",
    "GatewayNotification",
    "ImportStatus",
    "LookupMode",
    "Municipality",
    "Obligation",
    "ObligationImport",
    "ObligationState",
    "MunicipalityStateChange",
    "OnboardingState",
    "PasswordReset",
    "Payment",
    "PaymentEvent",
    "PaymentItem",
    "ObligationReminder",
    "ReminderKind",
    "ReminderOptOut",
    "PaymentMonthSummary",
    "PaymentState",
    "Receipt",
    "Region",
    "ReceiptCounter",
    "Refund",
    "RefundState",
    "OVER_MUNICIPALITIES",
    "ROLE_RANK",
    "ReportDispatch",
    "Service",
    "ServiceStateChange",
    "StaffInvitation",
    "StaffRole",
    "StaffUser",
    "VariableSymbolRule",
]
