"""The clerk's actions on lines, on the database: manual match, undo, return, the list
for the bank; and the CLI import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.banking.errors import BankingError
from app.banking.importing import import_statement, parse_upload
from app.banking.manual import find_target, match_manually, return_to_sender, returns_csv, undo_match
from app.db import db_session
from app.models import AuditLog, BankLine, BankLineMatch, Payment, Receipt
from tests.banking.conftest import SAMPLES, Bank, add_obligation, sample


def imported(bank: Bank) -> None:
    import_statement(bank.account.id, parse_upload(sample("fio_week_camt053.xml"), "w.xml"), source="upload")
    db_session.commit()


def unknown_line() -> BankLine:
    return db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()


def test_manual_match_pays_the_obligation_with_a_receipt_and_an_audit_entry(bank: Bank) -> None:
    imported(bank)
    target_ob = add_obligation(bank.service, "2026999999", 100000, "C999", "Kůň Ondřej")
    line = unknown_line()
    ids = match_manually(line.id, find_target(bank.municipality.id, "2026999999"), staff_email="clerk@obec.cz",
                         municipality_id=bank.municipality.id)  # fmt: skip
    db_session.refresh(line)
    db_session.refresh(target_ob)
    assert (line.status, line.rule, line.matched_by) == ("matched", "manual", "clerk@obec.cz")
    assert target_ob.amount_paid == 100000
    payment = db_session.get(Payment, ids[0])
    assert (payment.state, payment.gateway_name, payment.payer_name) == ("paid", "bank_transfer", "Kůň Ondřej")
    assert db_session.scalar(select(Receipt.full_number).where(Receipt.payment_id == payment.id)).endswith("/000007")
    assert (
        db_session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "bank_line.match")) == 1
    )

    with pytest.raises(BankingError) as caught:  # not in the queue any more
        match_manually(line.id, find_target(bank.municipality.id, "2026999999"), staff_email="x",
                       municipality_id=bank.municipality.id)  # fmt: skip
    assert caught.value.code == "not_unmatched"


def test_undo_puts_the_line_back_and_refunds_the_wrong_payment(bank: Bank) -> None:
    imported(bank)
    wrong = add_obligation(bank.service, "2026888888", 100000, "C888", "Někdo jiný")
    line = unknown_line()
    [pid] = match_manually(line.id, find_target(bank.municipality.id, "2026888888"), staff_email="c@o.cz",
                           municipality_id=bank.municipality.id)  # fmt: skip
    undo_match(line.id, staff_email="c@o.cz", municipality_id=bank.municipality.id)
    db_session.refresh(line)
    db_session.refresh(wrong)
    payment = db_session.get(Payment, pid)
    db_session.refresh(payment)
    assert (line.status, line.rule) == ("unmatched", "undone")
    assert wrong.amount_paid == 0
    assert (payment.state, payment.amount_refunded) == ("refunded", 100000)
    assert db_session.scalar(select(BankLineMatch.undone_by).where(BankLineMatch.payment_id == pid)) == "c@o.cz"
    # …and can be matched rightly now.
    right = add_obligation(bank.service, "2026777777", 100000, "C777", "Kůň Ondřej")
    match_manually(line.id, find_target(bank.municipality.id, "2026777777"), staff_email="c@o.cz",
                   municipality_id=bank.municipality.id)  # fmt: skip
    db_session.refresh(right)
    assert right.amount_paid == 100000


def test_return_to_sender_and_overpayments_make_the_list_for_the_bank(bank: Bank) -> None:
    imported(bank)
    return_to_sender(unknown_line().id, staff_email="c@o.cz", municipality_id=bank.municipality.id)
    rows = returns_csv(bank.municipality.id).splitlines()
    assert rows[0].startswith("datum_prijeti;castka")
    assert "2026-11-04;1000.00;CZK;1071234503;6100;;Kůň Ondřej;77;vraceni platby" in rows
    assert any(r.startswith("2026-11-03;50.00;CZK;1052345670;5500") and "preplatku" in r for r in rows)
    assert returns_csv(bank.municipality.id + 1000).count("\n") == 1  # another municipality: nothing


def test_another_municipalitys_line_cannot_be_touched(bank: Bank) -> None:
    imported(bank)
    with pytest.raises(LookupError):
        return_to_sender(unknown_line().id, staff_email="c@o.cz", municipality_id=bank.municipality.id + 1)


def test_cli_import_reports_and_refuses_cleanly(bank: Bank, app) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["banking", "import", str(SAMPLES / "fio_week.gpc"), "--account", "2801234578/2010"])
    assert result.exit_code == 0, result.output
    assert "8 lines, 8 new" in result.output and "5 matched, 1 unmatched, 2 outgoing" in result.output
    bad = runner.invoke(args=["banking", "import", str(SAMPLES / "broken_truncated_camt053.xml"), "--account",
                              "2801234578/2010"])  # fmt: skip
    assert bad.exit_code != 0 and "Nothing was imported" in bad.output
    again = runner.invoke(args=["banking", "import", str(SAMPLES / "fio_week.sta"), "--account", "2801234578/2010"])
    assert "0 new (8 already imported)" in again.output


def test_erasing_a_payer_clears_the_bank_line_of_their_transfer(bank: Bank) -> None:
    from app.models import Refund
    from app.payments.refunds import refund_payment
    from app.privacy.erasure import anonymise_payments
    from tests.admin.staff_helpers import make_staff

    imported(bank)
    payment = db_session.scalars(select(Payment).where(Payment.payer_name == "Dvořák Jan")).one()
    clerk = make_staff("clerk", bank.municipality, email="clerk@svetla.cz")
    refund = refund_payment(payment, 50000, reason="Přeplatek", actor=clerk.email, staff=clerk)
    db_session.commit()
    assert refund.counter_name == "Dvořák Jan"
    result = anonymise_payments([payment.id])
    db_session.commit()
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "2026000123")).one()
    assert result.bank_lines == 1
    assert (line.counter_name, line.counter_account, line.message) == (None, None, None)
    assert line.amount == 150000 and line.status == "matched"  # the accounting record stays
    refund = db_session.get(Refund, refund.id, populate_existing=True)
    assert (refund.counter_name, refund.counter_account, refund.counter_iban) == (None, None, None)
    assert refund.amount == 50000  # the refund itself stays


def test_a_credited_transfer_is_refunded_to_its_sender_once_the_clerk_confirms_it_sent(bank: Bank) -> None:
    from app.models import Obligation, PaymentEvent, Refund
    from app.payments.errors import RefundError
    from app.payments.refunds import confirm_refund_sent, refund_payment, refundable_amount
    from tests.admin.staff_helpers import make_staff

    clerk = make_staff("clerk", bank.municipality, email="clerk@svetla.cz")
    imported(bank)
    payment = db_session.scalars(select(Payment).where(Payment.variable_symbol == "2026000123")).one()
    refund = refund_payment(payment, 50000, reason="Poplatek zaplacen dvakrát", actor=clerk.email, staff=clerk)
    # To be sent: to the account the money came from; nothing moves yet but the amount is kept.
    assert (refund.state, refund.counter_display, refund.counter_name) == ("requested", "19-2000145399/0800",
                                                                           "Dvořák Jan")  # fmt: skip
    db_session.refresh(payment)
    assert (payment.state, payment.amount_refunded, refundable_amount(payment)) == ("paid", 0, 100000)
    with pytest.raises(RefundError):  # more than is left after the one to be sent
        refund_payment(payment, 100001, reason="x", staff=clerk)
    db_session.rollback()
    assert "19-2000145399;0800" in returns_csv(bank.municipality.id)
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "2026000123")).one()
    with pytest.raises(BankingError) as caught:  # an undo would refund it a second time
        undo_match(line.id, staff_email="c@o.cz", municipality_id=bank.municipality.id)
    assert caught.value.code == "refund_to_send"

    confirm_refund_sent(payment, refund.id, staff=clerk)
    db_session.expire_all()
    payment = db_session.get(Payment, payment.id)
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 50000)
    refund = db_session.get(Refund, refund.id)
    assert (refund.state, refund.confirmed_by) == ("succeeded", "clerk@svetla.cz")
    event = db_session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment.id)
                               .order_by(PaymentEvent.id.desc())).first()  # fmt: skip
    assert (event.from_state, event.to_state, event.data["refund_id"]) == ("paid", "partially_refunded", refund.id)
    assert db_session.get(Obligation, bank.obligations["123"].id).amount_paid == 100000
    actions = db_session.scalars(select(AuditLog.action).where(AuditLog.object_id == payment.external_id)
                                 .order_by(AuditLog.id)).all()  # fmt: skip
    assert actions == ["refund", "refund.sent"]
    assert "19-2000145399;0800" not in returns_csv(bank.municipality.id)
    with pytest.raises(RefundError) as again:  # sent once only
        confirm_refund_sent(payment, refund.id, staff=clerk)
    assert again.value.code == "not_to_be_sent"
    db_session.rollback()

    rest = refund_payment(payment, 100000, reason="Zbytek", staff=clerk)
    confirm_refund_sent(payment, rest.id, staff=clerk)
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "refunded"
    assert db_session.get(Obligation, bank.obligations["123"].id).amount_paid == 0
