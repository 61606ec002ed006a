"""The /api/v1 views: read the request through its model, call the domain, answer with
the response model. Every object is looked up within the key's municipality: another
municipality's object is a 404, like a missing one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from flask import render_template, request
from pydantic import BaseModel, ValidationError
from spectree import Response
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.api import bp, spec
from app.api.auth import audit_call, authenticate, current_key, note_object, rate_limit_key, rate_limit_value, requires
from app.api.bulk import upsert_rows
from app.api.errors import ApiError, from_validation_error
from app.api.idempotency import idempotent
from app.api.schemas import (
    BulkEnvelope,
    BulkObligationsIn,
    BulkRejected,
    BulkReport,
    ErrorBody,
    MonthFigures,
    ObligationIn,
    ObligationList,
    ObligationOut,
    ObligationQuery,
    PayLinkIn,
    PayLinkOut,
    PaymentList,
    PaymentOut,
    PaymentQuery,
    RefundIn,
    ServiceList,
    ServiceOut,
    TransferList,
    TransferQuery,
    dump,
)
from app.db import db_session, utcnow
from app.extensions import csrf, limiter
from app.models import BankLine, LineStatus, Obligation, Payment, PaymentMonthSummary, Service
from app.obligations.listing import state_condition
from app.paylinks.links import make_token, pay_link_url
from app.payments.errors import RefundError
from app.payments.refunds import refund_payment
from app.payments.search import PaymentFilter, decode_cursor, list_payments
from app.webhooks_out.events import transfers_data

M = TypeVar("M", bound=BaseModel)
MAX_DB_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1
_ERRORS = {f"HTTP_{code}": ErrorBody for code in (400, 401, 403, 404, 413, 415, 422, 429)}

csrf.exempt(bp)
limiter.limit(rate_limit_value, key_func=rate_limit_key)(bp)
bp.before_request(authenticate)
bp.after_request(audit_call)


def responses(**ok: Any) -> Response:
    return Response(**{**_ERRORS, **ok})


# -- errors ----------------------------------------------------------------------------
@bp.errorhandler(ApiError)
def api_error(exc: ApiError):  # type: ignore[no-untyped-def]
    return exc.body(), exc.status


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    code = (exc.name or "error").lower().replace(" ", "_")
    return ApiError(exc.code or 400, code, exc.description or exc.name or "").body(), exc.code or 400


# -- reading requests ------------------------------------------------------------------
def body_as(model: type[M]) -> M:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    data = request.get_json(silent=True, cache=True)
    if data is None:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def query_as(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def db_id(value: int) -> int:
    if not 0 < value <= MAX_DB_ID:
        raise ApiError(404, "not_found", "No such object.")
    return value


def my_service(service_id: int, field: str | None = None) -> Service:
    service = db_session.scalar(
        select(Service).where(Service.id == db_id(service_id), Service.municipality_id == current_key().municipality_id)
    )
    if service is None:
        raise ApiError(404, "unknown_service", "No such service.", field=field)
    return service


def my_obligation(obligation_id: int) -> Obligation:
    o = db_session.scalar(
        select(Obligation).where(
            Obligation.id == db_id(obligation_id), Obligation.municipality_id == current_key().municipality_id
        )
    )
    if o is None:
        raise ApiError(404, "not_found", "No such obligation.")
    note_object("Obligation", o.id)
    return o


def my_payment(external_id: str) -> Payment:
    if len(external_id) > 32 or not external_id.isascii() or not external_id.isalnum():
        raise ApiError(404, "not_found", "No such payment.")
    p = db_session.scalar(
        select(Payment).where(
            Payment.external_id == external_id, Payment.municipality_id == current_key().municipality_id
        )
    )
    if p is None:
        raise ApiError(404, "not_found", "No such payment.")
    note_object("Payment", p.external_id)
    return p


def obligation_out(o: Obligation) -> dict[str, Any]:
    return dump(
        ObligationOut,
        {
            **{c: getattr(o, c) for c in ObligationOut.model_fields if hasattr(o, c)},
            "state": o.state_on(date.today()).value,
            "remaining": o.remaining,
        },
    )


def payment_out(p: Payment) -> dict[str, Any]:
    return dump(
        PaymentOut,
        {
            "id": p.external_id,
            "service_id": p.service_id,
            "obligation_id": p.obligation_id,
            "amount": p.amount,
            "amount_refunded": p.amount_refunded,
            "currency": p.currency,
            "state": p.state,
            "variable_symbol": p.variable_symbol,
            "payer_name": p.payer_name,
            "gateway": p.gateway_name,
            "created_at": p.created_at,
            "paid_at": p.paid_at,
        },
    )


# -- description -----------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return spec.spec


@bp.get("/docs")
def docs():  # type: ignore[no-untyped-def]
    return render_template("api/docs.html", spec=spec.spec)


# -- services --------------------------------------------------------------------------
@bp.get("/services")
@spec.validate(resp=responses(HTTP_200=ServiceList), tags=["services"], skip_validation=True)
@requires("read")
def services():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(
        select(Service).where(Service.municipality_id == current_key().municipality_id).order_by(Service.id)
    )
    return {"items": [dump(ServiceOut, s) for s in rows]}


@bp.get("/services/<int:service_id>")
@spec.validate(resp=responses(HTTP_200=ServiceOut), tags=["services"], skip_validation=True)
@requires("read")
def service(service_id: int):  # type: ignore[no-untyped-def]
    s = my_service(service_id)
    note_object("Service", s.id)
    return dump(ServiceOut, s)


# -- obligations -----------------------------------------------------------------------
@bp.post("/obligations")
@spec.validate(
    json=ObligationIn,
    resp=responses(HTTP_201=ObligationOut, HTTP_200=ObligationOut, HTTP_409=ErrorBody),
    tags=["obligations"],
    skip_validation=True,
)
@requires("write")
@idempotent
def obligation_create():  # type: ignore[no-untyped-def]
    body = body_as(ObligationIn)
    service = my_service(body.service_id, field="service_id")
    row = body.model_dump(exclude={"service_id"}, mode="json")
    report = upsert_rows(service, [row], valid_rows_only=False)
    if not report["written"]:
        # The model accepted the row: what is left are conflicts (a variable symbol taken).
        first = report["errors"][0] if report["errors"] else {"field": None, "message": "Not written."}
        raise ApiError(409, "conflicting_obligation", first["message"], field=first["field"])
    o = db_session.scalar(
        select(Obligation).where(
            Obligation.service_id == service.id, Obligation.customer_id == body.customer_id.strip()
        )
    )
    assert o is not None
    note_object("Obligation", o.id)
    return obligation_out(o), 201 if report["inserted"] else 200


@bp.post("/obligations/bulk")
@spec.validate(
    json=BulkObligationsIn,
    resp=responses(HTTP_200=BulkReport, HTTP_409=BulkRejected, HTTP_422=BulkRejected),
    tags=["obligations"],
    skip_validation=True,
)
@requires("write")
@idempotent
def obligations_bulk():  # type: ignore[no-untyped-def]
    # The envelope is checked as a whole, the rows one by one (for the per-row report).
    envelope = body_as(BulkEnvelope)
    service = my_service(envelope.service_id, field="service_id")
    note_object("Service", service.id)
    report = upsert_rows(service, envelope.rows, valid_rows_only=envelope.valid_rows_only)
    if report["errors"] and not report["written"]:
        first = report["errors"][0]
        body = ApiError(
            422,
            "invalid_rows",
            f"{len(report['errors'])} errors; nothing was written.",
            field=first["field"],
            row=first["row"],
        ).body()
        return dump(BulkRejected, {**body, "report": report}), 422
    return dump(BulkReport, report)


@bp.get("/obligations")
@spec.validate(
    query=ObligationQuery, resp=responses(HTTP_200=ObligationList), tags=["obligations"], skip_validation=True
)
@requires("read")
def obligations():  # type: ignore[no-untyped-def]
    q = query_as(ObligationQuery)
    stmt = select(Obligation).where(Obligation.municipality_id == current_key().municipality_id)
    if q.service_id is not None:
        stmt = stmt.where(Obligation.service_id == q.service_id)
    if q.customer_id is not None:
        stmt = stmt.where(Obligation.customer_id == q.customer_id)
    if q.state is not None:
        stmt = stmt.where(state_condition(q.state, date.today()))
    if q.cursor is not None:
        stmt = stmt.where(Obligation.id > min(int(q.cursor), MAX_DB_ID))
    rows = list(db_session.scalars(stmt.order_by(Obligation.id).limit(q.limit + 1)))
    next_cursor = str(rows[q.limit - 1].id) if len(rows) > q.limit else None
    return {"items": [obligation_out(o) for o in rows[: q.limit]], "next_cursor": next_cursor}


@bp.get("/obligations/<int:obligation_id>")
@spec.validate(resp=responses(HTTP_200=ObligationOut), tags=["obligations"], skip_validation=True)
@requires("read")
def obligation(obligation_id: int):  # type: ignore[no-untyped-def]
    return obligation_out(my_obligation(obligation_id))


@bp.post("/obligations/<int:obligation_id>/cancel")
@spec.validate(resp=responses(HTTP_200=ObligationOut, HTTP_409=ErrorBody), tags=["obligations"], skip_validation=True)
@requires("write")
@idempotent
def obligation_cancel(obligation_id: int):  # type: ignore[no-untyped-def]
    o = my_obligation(obligation_id)
    if o.amount_paid > 0 and o.cancelled_at is None:
        raise ApiError(409, "obligation_paid", "An obligation with payments cannot be cancelled.")
    if o.cancelled_at is None:
        o.cancelled_at = o.updated_at = utcnow()
        db_session.commit()
    return obligation_out(o)


# -- payments --------------------------------------------------------------------------
@bp.get("/payments")
@spec.validate(query=PaymentQuery, resp=responses(HTTP_200=PaymentList), tags=["payments"], skip_validation=True)
@requires("read")
def payments():  # type: ignore[no-untyped-def]
    q = query_as(PaymentQuery)
    f = PaymentFilter(
        state=q.state, service_id=q.service_id, date_from=q.date_from, date_to=q.date_to, ref=q.variable_symbol or ""
    )
    if q.cursor is not None and decode_cursor(q.cursor, f.sort) is None:
        raise ApiError(422, "bad_cursor", "The cursor is not one this list gave.", field="cursor")
    page = list_payments(f, current_key().municipality_id, cursor=q.cursor, page_size=q.limit, related=False)
    return {"items": [payment_out(p) for p in page.items], "next_cursor": page.next_cursor}


@bp.get("/payments/<external_id>")
@spec.validate(resp=responses(HTTP_200=PaymentOut), tags=["payments"], skip_validation=True)
@requires("read")
def payment(external_id: str):  # type: ignore[no-untyped-def]
    return payment_out(my_payment(external_id))


@bp.post("/payments/<external_id>/refund")
@spec.validate(
    json=RefundIn, resp=responses(HTTP_200=PaymentOut, HTTP_409=ErrorBody), tags=["payments"], skip_validation=True
)
@requires("refunds")
@idempotent
def payment_refund(external_id: str):  # type: ignore[no-untyped-def]
    p = my_payment(external_id)
    body = body_as(RefundIn)
    try:
        refund_payment(p, body.amount, reason=body.reason, actor=f"api:{current_key().prefix}")
    except RefundError as exc:
        status = 422 if exc.code == "refund_reason" else 409  # more than is left: a conflict with the state
        field = {"refund_amount": "amount", "refund_reason": "reason"}.get(exc.code)
        raise ApiError(status, exc.code, _refund_message(exc), field=field) from None
    return payment_out(p)


def _refund_message(exc: RefundError) -> str:
    return {
        "not_refundable": "The payment is not in a refundable state.",
        "refund_amount": f"The amount must be between 1 and {exc.params.get('max', 0)} haléře.",
        "refund_reason": "Give a reason.",
        "gateway_error": "The payment gateway could not be reached; nothing was refunded.",
        "gateway_refused_refund": "The payment gateway refused the refund.",
    }.get(exc.code, exc.code)


# -- pay links -------------------------------------------------------------------------
@bp.post("/paylinks")
@spec.validate(json=PayLinkIn, resp=responses(HTTP_201=PayLinkOut), tags=["pay links"], skip_validation=True)
@requires("write")
@idempotent
def paylink_create():  # type: ignore[no-untyped-def]
    body = body_as(PayLinkIn)
    service = my_service(body.service_id, field="service_id")
    obligation = None
    if body.obligation_id is not None:
        obligation = my_obligation(body.obligation_id)
        if obligation.service_id != service.id:
            raise ApiError(404, "not_found", "No such obligation of this service.", field="obligation_id")
    expires_at = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token = make_token(
        service,
        obligation=obligation,
        amount=body.amount,
        payer_name=body.payer_name,
        payer_email=body.payer_email,
        expires_at=expires_at,
    )
    note_object("Service", service.id)
    return dump(PayLinkOut, {"url": pay_link_url(token), "token": token, "expires_at": expires_at}), 201


# -- bank transfers --------------------------------------------------------------------
@bp.get("/bank-transfers")
@spec.validate(
    query=TransferQuery, resp=responses(HTTP_200=TransferList), tags=["bank transfers"], skip_validation=True
)
@requires("read")
def bank_transfers():  # type: ignore[no-untyped-def]
    """Transfers credited to the municipality's accounts, from its imported bank statements,
    with the payments recorded for them (matched by the rules or by a clerk), oldest first:
    poll with the last page's ``next_cursor`` to get the lines imported since. Money out
    (returns, fees) is not listed."""
    q = query_as(TransferQuery)
    stmt = select(BankLine).where(
        BankLine.municipality_id == current_key().municipality_id,
        BankLine.status != LineStatus.OUTGOING,
        BankLine.amount > 0,
    )
    if q.state is not None:
        stmt = stmt.where(BankLine.status == q.state)
    if q.date_from is not None:
        stmt = stmt.where(BankLine.booking_date >= q.date_from)
    if q.date_to is not None:
        stmt = stmt.where(BankLine.booking_date <= q.date_to)
    if q.variable_symbol is not None:
        stmt = stmt.where(BankLine.variable_symbol == (q.variable_symbol.lstrip("0") or "0"))
    if q.cursor is not None:
        stmt = stmt.where(BankLine.id > min(int(q.cursor), MAX_BIG_ID))
    rows = list(db_session.scalars(stmt.order_by(BankLine.id).limit(q.limit + 1)))
    next_cursor = str(rows[q.limit - 1].id) if len(rows) > q.limit else None
    return {"items": transfers_data(db_session(), rows[: q.limit]), "next_cursor": next_cursor}


# -- figures ---------------------------------------------------------------------------
@bp.get("/figures/<int:year>/<int:month>")
@spec.validate(resp=responses(HTTP_200=MonthFigures), tags=["figures"], skip_validation=True)
@requires("read")
def figures(year: int, month: int):  # type: ignore[no-untyped-def]
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ApiError(404, "not_found", "No such month.")
    s = PaymentMonthSummary
    rows = db_session.execute(
        select(
            s.service_id,
            s.gateway_name,
            func.sum(s.paid_count),
            func.sum(s.paid_volume),
            func.sum(s.refund_count),
            func.sum(s.refund_volume),
        )
        .where(s.month == date(year, month, 1), s.municipality_id == current_key().municipality_id)
        .group_by(s.service_id, s.gateway_name)
        .order_by(s.service_id, s.gateway_name)
    ).all()
    lines = [
        {
            "service_id": r[0],
            "gateway": r[1],
            "paid_count": int(r[2] or 0),
            "paid_volume": int(r[3] or 0),
            "refund_count": int(r[4] or 0),
            "refund_volume": int(r[5] or 0),
        }
        for r in rows
    ]
    totals = {k: sum(line[k] for line in lines) for k in ("paid_count", "paid_volume", "refund_count", "refund_volume")}
    return dump(MonthFigures, {"month": f"{year:04d}-{month:02d}", **totals, "lines": lines})
