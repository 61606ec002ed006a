"""The BTCPay state table on its own: every (status, additionalStatus) pair we know."""

from __future__ import annotations

import pytest

from gateway.base import GatewayStatus
from gateway.btcpay.states import InvoiceState, implied_status, map_invoice

S = GatewayStatus


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        ("New", "None", InvoiceState(S.PENDING)),
        ("New", None, InvoiceState(S.PENDING)),
        ("New", "PaidPartial", InvoiceState(S.PENDING, partial=True)),
        ("Processing", "None", InvoiceState(S.PROCESSING)),
        ("Processing", "PaidOver", InvoiceState(S.PROCESSING, overpaid=True)),
        ("Settled", "None", InvoiceState(S.PAID)),
        ("Settled", "PaidOver", InvoiceState(S.PAID, overpaid=True)),
        ("Settled", "PaidLate", InvoiceState(S.PAID, late=True)),
        ("Settled", "Marked", InvoiceState(S.PAID, marked=True)),
        ("Expired", "None", InvoiceState(S.EXPIRED)),
        ("Expired", "PaidPartial", InvoiceState(S.EXPIRED, partial=True, needs_attention=True)),
        ("Expired", "PaidLate", InvoiceState(S.PAID, late=True)),
        ("Expired", "PaidOver", InvoiceState(S.PAID, late=True, overpaid=True)),
        ("Invalid", "None", InvoiceState(S.FAILED)),
        ("Invalid", "Invalid", InvoiceState(S.FAILED)),
        ("Invalid", "Marked", InvoiceState(S.FAILED, marked=True)),
    ],
)
def test_table(status: str, extra: str | None, expected: InvoiceState) -> None:
    assert map_invoice(status, extra) == expected


def test_late_payment_waits_for_its_confirmations() -> None:
    # BTCPay leaves a late-paid invoice Expired for good; only the payments say confirmed.
    assert map_invoice("Expired", "PaidLate", payments_confirmed=False).status == S.PROCESSING
    assert map_invoice("Expired", "PaidLate", payments_confirmed=True).status == S.PAID


def test_money_on_a_dead_invoice_needs_a_person() -> None:
    assert map_invoice("Invalid", "None", has_payments=True).needs_attention
    assert map_invoice("Expired", "None", has_payments=True).needs_attention
    assert not map_invoice("Expired", "None", has_payments=False).needs_attention


def test_unknown_status_waits() -> None:
    assert map_invoice("SomethingNew", "None").status == S.PENDING
    assert map_invoice(None).status == S.PENDING


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ("InvoiceSettled", S.PAID),
        ("InvoiceExpired", S.EXPIRED),
        ("InvoiceInvalid", S.FAILED),
        ("InvoiceProcessing", S.PROCESSING),
        ("InvoiceCreated", None),
        ("InvoiceReceivedPayment", None),
        ("InvoicePaymentSettled", None),
        ("PayoutCreated", None),
    ],
)
def test_event_hints(event: str, status: GatewayStatus | None) -> None:
    assert implied_status(event) == status
