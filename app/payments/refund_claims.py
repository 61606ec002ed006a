"""Refunds the payer claims: a BTCPay refund is a pull payment that the payer collects with
their own wallet address on BTCPay's claim page. The clerk's payment page shows that page's
address, and the payer gets it by e-mail once the refund is asked for.

The address is a bearer link (whoever opens it may claim the refund to their wallet): it
goes to the payer's e-mail and the clerk's page, never to the log."""

from __future__ import annotations

import logging

from flask import render_template
from flask_babel import force_locale

from app.db import db_session
from app.gateways import gateway_for_payment
from app.jobs import enqueue, in_app
from app.mail import mail_configured, send_mail
from app.models import Payment, Refund, RefundState
from gateway import GatewayError

log = logging.getLogger(__name__)


def claim_url(payment: Payment, refund_reference: str) -> str | None:
    """Where the payer claims a refund with their wallet address (None for gateways that
    pay refunds back themselves, or when the gateway does not answer)."""
    try:
        status_of = getattr(gateway_for_payment(payment), "refund_status", None)
        return status_of(refund_reference).claim_url if status_of is not None else None
    except GatewayError:
        return None


@in_app
def mail_refund_claim(refund_id: int) -> str:
    """E-mail the payer the claim page of a refund that waits for them; returns what happened."""
    refund = db_session.get(Refund, refund_id)
    if refund is None:
        return "missing"
    if refund.state != RefundState.REQUESTED or not refund.gateway_reference:
        return "not_waiting"
    payment = db_session.get(Payment, refund.payment_id)
    if payment is None or not payment.payer_email:
        return "no_address"
    if not mail_configured():
        log.info("MAIL_SERVER is not set: the claim link of refund %s was not e-mailed", refund.id)
        return "skipped"
    url = claim_url(payment, refund.gateway_reference)
    if not url:
        return "no_claim"
    with force_locale("cs"):  # Czech, as the receipt e-mail
        body = render_template("payments/refund_claim.txt", payment=payment, refund=refund, url=url)
    send_mail(payment.payer_email, f"Vrácení platby – {payment.municipality.name}", body)
    log.info("refund %s: claim link e-mailed to the payer", refund.id)
    return "sent"


def schedule_refund_claim_mail(refund: Refund) -> None:
    """After the refund's commit: e-mail its claim page to the payer, once. A queue or mail
    server that is down is not an error for the refund: the clerk's page shows the link."""
    try:
        enqueue(mail_refund_claim, refund.id, job_id=f"refund-claim-{refund.id}")
    except Exception:  # noqa: BLE001 - Redis or SMTP down (inline): the refund stands, the clerk passes the link on
        log.warning("refund %s: claim e-mail not sent now", refund.id, exc_info=True)
