"""Listeners are registered explicitly by create_app, never as a side effect of an import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.models import PaymentState
from app.payments import transitions

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_domain_registers_nothing() -> None:
    # A fresh interpreter: import every domain module an entry point might import.
    code = (
        "import app.payments.create, app.payments.notifications, app.payments.jobs, app.receipts.jobs, "
        "app.obligations.jobs, app.reporting.jobs, app.citizens.consent, app.reporting.summary\n"
        "from app.payments.transitions import _listeners\n"
        "assert not any(_listeners.values()), _listeners\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_create_app_registers_each_listener_once_in_order(app) -> None:  # type: ignore[no-untyped-def]
    from app.listeners import register_listeners

    register_listeners()  # again (every app built in a process does): no duplicates
    paid = [f.__name__ for f in transitions._listeners[PaymentState.PAID]]
    assert paid == ["credit_obligation", "count_paid", "issue_on_paid"]
    assert [f.__name__ for f in transitions._listeners[PaymentState.STARTED]] == ["record_on_start"]
    for state in (PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED):
        assert [f.__name__ for f in transitions._listeners[state]] == ["debit_refund", "count_refund"]
