"""The monthly report and the yearly indicators count transfers beside card payments."""

from __future__ import annotations

from app.banking.importing import import_statement, parse_upload
from app.db import db_session
from app.models import PaymentState
from app.payments.transitions import transition_payment
from app.reporting.monthly import build_monthly_report
from app.reporting.render import render_monthly
from app.reporting.yearly import build_yearly_indicators
from app.timeutil import prague_today
from tests.banking.conftest import Bank, sample
from tests.factories import make_payment


def test_monthly_and_yearly_show_card_and_transfer_side_by_side(bank: Bank) -> None:
    card = make_payment(bank.service, amount=25000, state=PaymentState.STARTED, gateway_name="demo")
    transition_payment(card, PaymentState.PAID, reason="demo paid")
    db_session.commit()
    import_statement(bank.account.id, parse_upload(sample("fio_week.gpc"), "w.gpc"), source="upload")
    db_session.commit()

    today = prague_today()
    report = build_monthly_report(today.year, today.month)
    kinds = {line.key: (line.current.count, line.current.volume) for line in report.by_channel_kind}
    assert kinds["card"] == (1, 25000)
    assert kinds["transfer"] == (6, 569000)
    assert (report.total.current.count, report.total.current.volume) == (7, 594000)
    channels = {line.key: line.current.count for line in report.by_channel}
    assert channels == {"demo": 1, "bank_transfer": 6}
    csv = render_monthly(report, "csv").content.decode("utf-8-sig")
    assert "Bankovní převod" in csv

    yearly = build_yearly_indicators(today.year)
    month = yearly.months[today.month - 1]
    assert (month.card.count, month.transfer.count, month.transfer.volume) == (1, 6, 569000)
    assert yearly.has_transfers
