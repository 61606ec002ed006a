"""What a BTCPay invoice's (status, additionalStatus) means for us: one pure table.

Nothing here talks to the network, so the mapping is tested on its own
(``tests/gateway/test_btcpay_states.py``). The adapter feeds it what it read from the
Greenfield API; the domain only ever sees our ``GatewayStatus`` and the flags.

BTCPay's invoice statuses: ``New`` (waiting, maybe part paid), ``Processing`` (paid in
full, waiting for confirmations), ``Settled`` (paid and confirmed), ``Expired`` (not paid in
full in time), ``Invalid`` (double spent, or marked invalid by the store). The
``additionalStatus`` says why: ``PaidPartial``, ``PaidOver``, ``PaidLate``, ``Marked``,
``Invalid`` or ``None``.

Two choices worth knowing:

- **Expired + PaidPartial → EXPIRED** (with ``partial``). While the invoice is ``New`` a
  partial payment keeps it open (PENDING) and the checkout asks for the rest. Once BTCPay
  has expired it, that invoice takes no more money; reporting PENDING would keep our payment
  "started" on an invoice nobody can finish. EXPIRED with ``amount_received`` lets the domain
  show what arrived and have a clerk return it (expired → paid stays possible if the store
  later marks the invoice settled).
- **Expired + PaidLate → PAID only once the late payments are confirmed.** BTCPay leaves a
  late-paid invoice ``Expired`` for good (it never moves to Processing/Settled), so the
  invoice status cannot say whether the transaction is confirmed; the adapter passes the
  payments' own state as ``payments_confirmed``. Unconfirmed → PROCESSING.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.base import GatewayStatus

NEW = "New"
PROCESSING = "Processing"
SETTLED = "Settled"
EXPIRED = "Expired"
INVALID = "Invalid"

PAID_PARTIAL = "PaidPartial"
PAID_OVER = "PaidOver"
PAID_LATE = "PaidLate"
MARKED = "Marked"


@dataclass(frozen=True)
class InvoiceState:
    status: GatewayStatus
    partial: bool = False  # less than the amount arrived
    overpaid: bool = False  # more than the amount arrived: the difference is to be returned
    late: bool = False  # paid after the invoice expired
    marked: bool = False  # a person at the store set the status by hand
    # Money arrived on an invoice that no longer counts (Invalid, or Expired without being
    # paid late or in part): nothing settles it on its own, a person has to look.
    needs_attention: bool = False


def map_invoice(
    status: str | None,
    additional_status: str | None = None,
    *,
    payments_confirmed: bool = True,
    has_payments: bool = False,
) -> InvoiceState:
    """Our view of an invoice. Unknown statuses read as PENDING: wait, never guess paid."""
    extra = additional_status or "None"
    partial = extra == PAID_PARTIAL
    overpaid = extra == PAID_OVER
    late = extra == PAID_LATE
    marked = extra == MARKED

    if status == SETTLED:
        return InvoiceState(GatewayStatus.PAID, overpaid=overpaid, late=late, marked=marked)
    if status == PROCESSING:
        return InvoiceState(GatewayStatus.PROCESSING, overpaid=overpaid)
    if status == EXPIRED:
        if late or overpaid:
            # Paid in full after expiry (BTCPay reports PaidOver here when the late payment was
            # too large): the money is there, so the gateway's truth wins (expired → paid).
            confirmed = GatewayStatus.PAID if payments_confirmed else GatewayStatus.PROCESSING
            return InvoiceState(confirmed, late=True, overpaid=overpaid)
        if partial:
            return InvoiceState(GatewayStatus.EXPIRED, partial=True, needs_attention=True)
        return InvoiceState(GatewayStatus.EXPIRED, needs_attention=has_payments)
    if status == INVALID:
        return InvoiceState(GatewayStatus.FAILED, marked=marked, needs_attention=has_payments)
    # New, possibly part paid (the checkout still asks for the rest), or a status BTCPay added
    # after this was written.
    return InvoiceState(GatewayStatus.PENDING, partial=partial)


# Webhook event type → the status it hints at. Only a hint: the invoice is re-read.
EVENT_STATUS: dict[str, GatewayStatus] = {
    "InvoiceSettled": GatewayStatus.PAID,
    "InvoiceExpired": GatewayStatus.EXPIRED,
    "InvoiceInvalid": GatewayStatus.FAILED,
    "InvoiceProcessing": GatewayStatus.PROCESSING,
}


def implied_status(event_type: str) -> GatewayStatus | None:
    return EVENT_STATUS.get(event_type)
