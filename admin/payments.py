"""Payments: the filtered list, a payment's detail, refunds."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin import bp
from admin.forms import RefundForm, RefundSentForm
from admin.guards import (
    current_municipality_id,
    current_region_id,
    current_staff,
    scoped_get_or_404,
    staff_required,
)
from app.czech import czech
from app.db import db_session
from app.messages import message_for
from app.models import (
    Payment,
    PaymentEvent,
    PaymentItem,
    PaymentState,
    Refund,
    RefundState,
    Service,
    StaffRole,
)
from app.models.payment import refunded_per_item
from app.money import AmountError, format_czk, parse_czk
from app.payments import search as ap
from app.payments.errors import RefundError
from app.payments.labels import describe_event
from app.payments.refunds import (
    confirm_refund_sent,
    refund_by_staff,
    refund_claim_url,
    refundable_amount,
    refunds_to_send,
    transfer_line,
)
from app.receipts.issuing import receipt_for_payment
from app.validation import parse_id


def _service_options() -> list[tuple[int, str]]:
    """The service filter's choices: the services of the municipality in view (none for
    the operator's all-municipality view, which would list thousands)."""
    mid = current_municipality_id()
    if mid is None:
        return []
    rows = db_session.execute(
        select(Service.id, Service.name).where(Service.municipality_id == mid).order_by(czech(Service.name))
    ).all()
    return [(sid, name) for sid, name in rows]


@bp.get("/platby")
@staff_required()
def payments():  # type: ignore[no-untyped-def]
    f = ap.PaymentFilter.from_args(request.args)
    mid = current_municipality_id()
    page = ap.list_payments(
        f,
        mid,
        cursor=request.args.get("cursor"),
        page_size=current_app.config["ADMIN_PAGE_SIZE"],
        region_id=current_region_id() if mid is None else None,
    )
    return render_template(
        "admin/payments.html",
        f=f,
        page=page,
        services=_service_options(),
        states=list(PaymentState),
        filter_args=f.to_args(),
    )


@bp.get("/platby/<external_id>")
@staff_required()
def payment_detail(external_id: str):  # type: ignore[no-untyped-def]
    payment = scoped_get_or_404(Payment, external_id=external_id)
    # The amount starts empty: the clerk types what to return (the remainder is the hint).
    return _detail(payment, RefundForm())


def item_rows(payment: Payment) -> list[dict[str, object]]:
    """Each fee of a payment of several: service, obligation, amount and what of the
    payment's refunds falls on it (the last items first, as the obligations are debited)."""
    items = db_session.scalars(
        select(PaymentItem)
        .where(PaymentItem.payment_id == payment.id)
        .options(selectinload(PaymentItem.service), selectinload(PaymentItem.obligation))
        .order_by(PaymentItem.position, PaymentItem.id)
    ).all()
    back = refunded_per_item([(i.id, i.amount) for i in items], payment.amount_refunded)
    return [
        {
            "service": i.service.name,
            "customer_id": i.obligation.customer_id,
            "payer": i.obligation.payer_name,
            "period": i.obligation.period,
            "amount": i.amount,
            "refunded": r,
        }
        for i, r in zip(items, back, strict=True)
    ]


def _detail(payment: Payment, form: RefundForm, status: int = 200, gateway_refusal: str | None = None):  # type: ignore[no-untyped-def]
    events = db_session.scalars(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id)
    ).all()
    refundable = payment.is_refundable
    # Refunds the gateway completes later (BTCPay: the payer claims them with a wallet).
    waiting = db_session.scalars(
        select(Refund).where(Refund.payment_id == payment.id, Refund.state == RefundState.REQUESTED).order_by(Refund.id)
    ).all()
    to_send = refunds_to_send(payment.id)
    pending = [
        {
            "amount": r.amount,
            "claim_url": refund_claim_url(payment, r.gateway_reference) if r.gateway_reference else None,
        }
        for r in waiting
        if r not in to_send
    ]
    line = transfer_line(payment)
    return render_template(
        "admin/payment_detail.html",
        payment=payment,
        events=events,
        form=form,
        refundable=refundable,
        receipt=receipt_for_payment(payment),
        pending_refunds=pending,
        gateway_refusal=gateway_refusal,
        to_send=to_send,
        transfer_from=line.counter_display if line is not None else None,
        refundable_left=refundable_amount(payment),
        items=item_rows(payment),
        events_in_words=[describe_event(e) for e in events],
    ), status


@bp.post("/platby/<external_id>/vratit")
@staff_required(role=StaffRole.CLERK)
def payment_refund(external_id: str):  # type: ignore[no-untyped-def]
    payment = scoped_get_or_404(Payment, external_id=external_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            amount = parse_czk(form.amount.data)
        except AmountError:
            form.amount.errors = [_("Částka musí být číslo v korunách, např. 500 nebo 499,50.")]
        else:
            remaining = refundable_amount(payment)
            if not payment.is_refundable:
                form.form_errors.append(message_for(RefundError("not_refundable")))
            elif not 0 < amount <= remaining:
                form.amount.errors = [message_for(RefundError("refund_amount", max=max(remaining, 0)))]
            elif request.form.get("confirm") != "1":
                # A second look before money moves: amount, reason, "Opravdu vrátit?".
                line = transfer_line(payment)
                return render_template("admin/refund_confirm.html", payment=payment, form=form, amount=amount,
                                       transfer_from=line.counter_display if line is not None else None)
            else:
                try:
                    # Records the refund, moves the payment and writes the audit row in one
                    # transaction, committed at once (the gateway has moved money).
                    refund = refund_by_staff(
                        payment, amount, reason=form.reason.data or "", staff=current_staff._get_current_object()
                    )  # type: ignore[attr-defined]
                except RefundError as exc:
                    db_session.rollback()
                    if exc.code == "gateway_error":
                        # Not a mistake in the form: the gateway said no. Its own message.
                        return _detail(payment, RefundForm(formdata=None), 502, gateway_refusal=message_for(exc))
                    form.form_errors.append(message_for(exc))
                else:
                    db_session.commit()
                    if refund.state == RefundState.SUCCEEDED:
                        flash(_("Vráceno %(a)s.", a=format_czk(amount)), "success")
                    elif refund.counter_display:
                        flash(_("Vrácení %(a)s na účet %(account)s je k odeslání. Pošlete je z účtu obce a odeslání "
                                "potvrďte u platby.", a=format_czk(amount), account=refund.counter_display), "success")
                    else:
                        flash(
                            _("Vrácení %(a)s je zadáno; platební brána ho dokončí později.", a=format_czk(amount)),
                            "success",
                        )
                    return redirect(url_for("admin.payment_detail", external_id=payment.external_id), code=303)
    return _detail(payment, form, 422)


@bp.post("/platby/<external_id>/vratit/odeslano")
@staff_required(role=StaffRole.CLERK)
def payment_refund_sent(external_id: str):  # type: ignore[no-untyped-def]
    """A bank transfer's refund sent from the municipality's bank by hand: confirmed here."""
    payment = scoped_get_or_404(Payment, external_id=external_id)
    form = RefundSentForm()
    refund_id = parse_id(form.refund.data) if form.validate_on_submit() else None
    if refund_id is None:
        abort(400, description=_("Chybí vrácení, jehož odeslání potvrzujete."))
    try:
        refund = confirm_refund_sent(payment, refund_id,
                                     staff=current_staff._get_current_object())  # type: ignore[attr-defined]
    except RefundError as exc:
        db_session.rollback()
        flash(message_for(exc), "error")
        return redirect(url_for("admin.payment_detail", external_id=payment.external_id), code=303)
    flash(_("Odeslání vrácení %(a)s na účet %(account)s je potvrzeno.", a=format_czk(refund.amount),
            account=refund.counter_display), "success")
    return redirect(url_for("admin.payment_detail", external_id=payment.external_id), code=303)
