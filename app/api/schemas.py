"""Pydantic models of the API: the request bodies and queries (unknown fields refused)
and the answers. The OpenAPI description is generated from these by spectree."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_AMOUNT = 10_000_000 * 100  # haléře; amounts are int4 in the database
MAX_BULK_ROWS = 10_000
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Amount = Annotated[int, Field(ge=1, le=MAX_AMOUNT, description="haléře (1 Kč = 100)")]
CustomerId = Annotated[str, Field(pattern=r"^[\w\-/.]([\w\-/. ]{0,48}[\w\-/.])?$", max_length=50)]
PlainText = r"^[^\x00-\x1f\x7f]*$"
# Plain text with at least one visible character (the import refuses blank names).
Visible = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
VariableSymbol = Annotated[str, Field(pattern=r"^[0-9]{1,10}$")]
ObligationStateName = Literal["unpaid", "partially_paid", "paid", "overdue", "cancelled"]
PaymentStateName = Literal[
    "created", "started", "paid", "failed", "cancelled", "expired", "partially_refunded", "refunded"
]


def _utc(value: datetime) -> datetime:
    """The database keeps naive UTC; the API always says so (RFC 3339 with an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ----------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    row: int | None = Field(None, description="index of the row in a bulk call (0-based)")


class ErrorInfo(ErrorDetail):
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


# -- services --------------------------------------------------------------------------
class ServiceOut(BaseModel):
    id: int
    slug: str
    name: str
    active: bool
    amount_mode: str
    amount: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    variable_symbol: str | None = None
    lookup_mode: str


class ServiceList(BaseModel):
    items: list[ServiceOut]


# -- obligations -----------------------------------------------------------------------
class ObligationFields(Strict):
    customer_id: CustomerId
    payer_name: Annotated[str, Field(min_length=1, max_length=200, pattern=Visible)]
    amount: Amount
    due_date: date | None = None
    variable_symbol: VariableSymbol | None = None
    period: Annotated[str, Field(max_length=40, pattern=PlainText)] | None = None
    note: Annotated[str, Field(max_length=500, pattern=PlainText)] | None = None


class ObligationIn(ObligationFields):
    service_id: Id


class BulkObligationsIn(Strict):
    service_id: Id
    rows: Annotated[list[ObligationFields], Field(min_length=1, max_length=MAX_BULK_ROWS)]
    valid_rows_only: bool = Field(
        False, description="write the valid rows even when some are bad (otherwise nothing is written)"
    )


class BulkEnvelope(Strict):
    """The bulk call read before its rows: each row is then checked on its own."""

    service_id: Id
    rows: Annotated[list[Any], Field(min_length=1, max_length=MAX_BULK_ROWS)]
    valid_rows_only: bool = False


class ObligationOut(BaseModel):
    id: int
    service_id: int
    customer_id: str
    payer_name: str
    amount: int
    amount_paid: int
    remaining: int
    due_date: date | None = None
    variable_symbol: str | None = None
    period: str | None = None
    note: str | None = None
    state: ObligationStateName
    cancelled_at: UtcDatetime | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ObligationList(BaseModel):
    items: list[ObligationOut]
    next_cursor: str | None = None


class ObligationQuery(Strict):
    service_id: Id | None = None
    customer_id: CustomerId | None = None
    state: ObligationStateName | None = None
    cursor: Annotated[str, Field(max_length=20, pattern=r"^[0-9]{1,10}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class BulkRowError(BaseModel):
    row: int
    field: str | None = None
    code: str
    message: str


class BulkReport(BaseModel):
    written: bool
    total_rows: int
    valid_rows: int
    inserted: int
    updated: int
    unchanged: int
    errors: list[BulkRowError]


class BulkRejected(BaseModel):
    error: ErrorInfo
    report: BulkReport


# -- payments --------------------------------------------------------------------------
class PaymentOut(BaseModel):
    id: str = Field(description="the payment's external id")
    service_id: int
    obligation_id: int | None = None
    amount: int
    amount_refunded: int
    currency: str
    state: PaymentStateName
    variable_symbol: str | None = None
    payer_name: str
    gateway: str
    created_at: UtcDatetime
    paid_at: UtcDatetime | None = None


class PaymentList(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None = None


class PaymentQuery(Strict):
    state: PaymentStateName | None = None
    service_id: Id | None = None
    date_from: date | None = None
    date_to: date | None = None
    variable_symbol: VariableSymbol | None = None
    cursor: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class RefundIn(Strict):
    amount: Amount
    reason: Annotated[str, Field(min_length=1, max_length=200, pattern=Visible)]


# -- pay links -------------------------------------------------------------------------
class PayLinkIn(Strict):
    service_id: Id
    obligation_id: Id | None = Field(None, description="prefills the amount left to pay and the variable symbol")
    amount: Amount | None = Field(None, description="for services where the payer enters the amount")
    payer_name: Annotated[str, Field(max_length=200, pattern=PlainText)] | None = None
    payer_email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$")] | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class PayLinkOut(BaseModel):
    url: str
    token: str
    expires_at: UtcDatetime | None = None


# -- bank transfers --------------------------------------------------------------------
TransferStateName = Literal["matched", "unmatched", "returned"]


class TransferMatch(BaseModel):
    payment_id: str = Field(description="the external id of the payment recorded for the transfer")
    service_id: int
    obligation_id: int | None = None
    amount: int = Field(description="haléře of the transfer counted to this payment")
    undone: bool = Field(description="a clerk undid this match (the payment was refunded in full)")


class TransferOut(BaseModel):
    id: int = Field(description="the statement line's id; increases with every line imported")
    booking_date: date
    value_date: date | None = None
    amount: int = Field(description="haléře credited to the municipality's account")
    currency: str
    variable_symbol: str | None = None
    constant_symbol: str | None = None
    specific_symbol: str | None = None
    counter_account: str | None = Field(None, description="the payer's account as the bank gave it")
    counter_name: str | None = None
    message: str | None = None
    state: TransferStateName
    rule: str = Field(description="the rule that decided the state (e.g. obligation_exact, manual, unknown_vs)")
    manual: bool = Field(description="matched by a clerk")
    overpayment: int = Field(description="haléře received beyond what was owed, to be returned")
    matched_at: UtcDatetime | None = None
    matches: list[TransferMatch]


class TransferList(BaseModel):
    items: list[TransferOut]
    next_cursor: str | None = None


class TransferQuery(Strict):
    state: TransferStateName | None = None
    date_from: date | None = Field(None, description="booking date on or after")
    date_to: date | None = Field(None, description="booking date on or before")
    variable_symbol: VariableSymbol | None = None
    cursor: Annotated[str, Field(max_length=20, pattern=r"^[0-9]{1,19}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


# -- figures ---------------------------------------------------------------------------
class ServiceFigures(BaseModel):
    service_id: int
    gateway: str
    paid_count: int
    paid_volume: int
    refund_count: int
    refund_volume: int


class MonthFigures(BaseModel):
    month: str = Field(description="YYYY-MM (Prague time)")
    paid_count: int
    paid_volume: int
    refund_count: int
    refund_volume: int
    lines: list[ServiceFigures]


def dump(model: type[BaseModel], obj: Any) -> dict[str, Any]:
    return model.model_validate(obj, from_attributes=True).model_dump(mode="json")
