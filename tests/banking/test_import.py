"""Importing statements on the database: every format, every matching rule, payments
through the state machine (receipts, obligations, the monthly summary), duplicates and
refusals that leave nothing behind."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.banking.errors import BankingError
from app.banking.importing import import_statement, parse_upload
from app.banking.matching import Candidates, LineIn, decide
from app.db import db_session
from app.models import (
    BankLine,
    BankLineMatch,
    BankStatement,
    Payment,
    PaymentEvent,
    PaymentMonthSummary,
    Receipt,
)
from app.reporting.summary import verify_month
from tests.banking.conftest import Bank, add_obligation, sample
from tests.factories import make_municipality, make_payment, make_service

FILES = ["fio_week_camt053.xml", "fio_week_camt053_v08.xml", "fio_week.gpc", "fio_week.sta", "fio_week.json"]


def run_import(bank: Bank, name: str) -> object:
    statement = parse_upload(sample(name), name)
    result = import_statement(bank.account.id, statement, source="upload", filename=name)
    db_session.commit()
    return result


def lines_by_vs() -> dict[str, list[BankLine]]:
    out: dict[str, list[BankLine]] = {}
    for line in db_session.scalars(select(BankLine).order_by(BankLine.id)):
        out.setdefault(line.variable_symbol or "-", []).append(line)
    return out


@pytest.mark.parametrize("name", FILES)
def test_every_format_matches_the_week_by_its_rules(bank: Bank, name: str) -> None:
    result = run_import(bank, name)
    assert (result.lines, result.new_lines, result.matched, result.unmatched, result.outgoing) == (8, 8, 5, 1, 2)
    lines = lines_by_vs()
    rules = [(line.amount, line.status, line.rule, line.overpayment) for line in db_session.scalars(
        select(BankLine).order_by(BankLine.id))]  # fmt: skip
    assert rules == [
        (150000, "matched", "obligation_exact", 0),
        (69000, "matched", "obligation_partial", 0),
        (200000, "matched", "payer_sum", 0),
        (35000, "matched", "obligation_over", 5000),
        (100000, "unmatched", "unknown_vs", 0),
        (-50000, "outgoing", "return", 0),
        (-4500, "outgoing", "fee", 0),
        (120000, "matched", "obligation_exact", 0),
    ]
    o = bank.obligations
    for ob in o.values():
        db_session.refresh(ob)
    assert [o[k].amount_paid for k in ("123", "124", "456", "457", "789")] == [150000, 189000, 150000, 50000, 30000]
    assert all(ob.remaining == 0 for ob in o.values())

    payments = db_session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.amount, p.state, p.gateway_name) for p in payments] == [
        (150000, "paid", "bank_transfer"), (69000, "paid", "bank_transfer"), (150000, "paid", "bank_transfer"),
        (50000, "paid", "bank_transfer"), (30000, "paid", "bank_transfer"), (120000, "paid", "bank_transfer"),
    ]  # fmt: skip
    # Payer name as the bank sent it; the counter-account kept on the line and the event.
    assert payments[0].payer_name == "Dvořák Jan"
    assert lines["2026000123"][0].counter_display == "19-2000145399/0800"
    event = db_session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payments[0].id)).one()
    assert (event.from_state, event.to_state) == ("created", "paid")
    assert event.data["counter_account"] == "19-2000145399" and event.data["rule"] == "obligation_exact"
    # Gapless receipts, one per payment.
    numbers = db_session.scalars(select(Receipt.number).order_by(Receipt.number)).all()
    assert numbers == [1, 2, 3, 4, 5, 6]
    # The monthly summary counts the transfers, exactly.
    summary = db_session.scalars(select(PaymentMonthSummary)).all()
    assert {s.gateway_name for s in summary} == {"bank_transfer"}
    assert (sum(s.paid_count for s in summary), sum(s.paid_volume for s in summary)) == (6, 569000)
    today = date.today()
    assert verify_month(today.year, today.month) == []


def test_reimporting_the_same_or_an_overlapping_statement_counts_nothing_twice(bank: Bank) -> None:
    run_import(bank, "fio_week_camt053.xml")
    again = run_import(bank, "fio_week_camt053.xml")
    assert (again.new_lines, again.duplicates, again.matched) == (0, 8, 0)
    other_format = run_import(bank, "fio_week.gpc")  # the same week from another export
    assert other_format.new_lines == 0
    assert db_session.scalar(select(func.count()).select_from(BankLine)) == 8
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 6
    assert db_session.scalar(select(func.count()).select_from(BankStatement)) == 3


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("broken_truncated_camt053.xml", "truncated"),
        ("broken_wrong_encoding_camt053.xml", "wrong_encoding"),
        ("broken_balance_mismatch_camt053.xml", "balance_mismatch"),
        ("broken_balance_mismatch.gpc", "balance_mismatch"),
        ("broken_truncated.gpc", "truncated"),
        ("broken_eur_camt053.xml", "wrong_currency"),
        ("make_samples.py", "wrong_format"),
    ],
)
def test_bad_files_are_refused_with_their_reason(bank: Bank, name: str, code: str) -> None:
    with pytest.raises(BankingError) as caught:
        statement = parse_upload(sample(name), name)
        import_statement(bank.account.id, statement, source="upload")
    assert caught.value.code == code
    assert caught.value.describe()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(BankLine)) == 0


def test_a_file_over_50_mb_is_refused_before_parsing(bank: Bank) -> None:
    with pytest.raises(BankingError) as caught:
        parse_upload(b"<" + b" " * (50 * 1024 * 1024), "huge.xml")
    assert caught.value.code == "too_large"


def test_a_statement_of_an_account_that_is_not_this_one_is_refused(bank: Bank) -> None:
    other = make_municipality(name="Hodkovice")
    from app.banking.accounts import create_account

    other_account = create_account(other.id, "19-2000145399/0800")
    db_session.commit()
    statement = parse_upload(sample("fio_week_camt053.xml"), "x.xml")
    with pytest.raises(BankingError) as caught:
        import_statement(other_account.id, statement, source="upload")
    assert caught.value.code == "unknown_account"
    assert "2801234578/2010" in caught.value.describe()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(BankStatement)) == 0


def test_a_payment_waiting_for_its_transfer_is_paid_by_it(bank: Bank) -> None:
    service = make_service(bank.municipality, slug="psi", amount=150000, vs_rule="per_payment",
                           variable_symbol="55", constant_symbol=None)  # fmt: skip
    waiting = make_payment(service, amount=69000, variable_symbol="2026000124", state="created", gateway_name="demo")
    db_session.delete(bank.obligations["124"])  # the VS is the payment's here
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    db_session.refresh(waiting)
    assert (waiting.state, waiting.gateway_name) == ("paid", "bank_transfer")
    line = db_session.scalars(select(BankLine).where(BankLine.amount == 69000)).one()
    assert line.rule == "payment_exact"
    assert db_session.scalar(select(BankLineMatch.payment_id).where(BankLineMatch.line_id == line.id)) == waiting.id
    # The second transfer with that VS finds the payment used: nothing to match.
    second = db_session.scalars(select(BankLine).where(BankLine.amount == 120000)).one()
    assert (second.status, second.rule) == ("unmatched", "unknown_vs")
    assert db_session.scalar(select(Receipt.payment_id).where(Receipt.payment_id == waiting.id)) == waiting.id


def test_a_payment_sent_to_a_card_gateway_is_not_paid_twice(bank: Bank) -> None:
    service = make_service(bank.municipality, slug="psi", amount=150000, vs_rule="per_payment", variable_symbol="55")
    started = make_payment(service, amount=150000, variable_symbol="2026000123", state="started",
                           gateway_reference="demo-1")  # fmt: skip
    db_session.delete(bank.obligations["123"])
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    db_session.refresh(started)
    assert started.state == "started"
    line = db_session.scalars(select(BankLine).where(BankLine.amount == 150000)).one()
    assert (line.status, line.rule) == ("unmatched", "payment_at_gateway")


def test_a_service_with_one_symbol_for_everyone_is_paid_by_its_price(bank: Bank) -> None:
    make_service(bank.municipality, slug="pes", amount=100000, vs_rule="fixed", variable_symbol="77",
                 constant_symbol="0308")  # fmt: skip
    run_import(bank, "fio_week_camt053.xml")
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()
    assert (line.status, line.rule) == ("matched", "service_exact")


def test_a_wrong_constant_symbol_goes_to_the_queue(bank: Bank) -> None:
    bank.service.constant_symbol = "1148"
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "2026000123")).one()
    assert (line.status, line.rule) == ("unmatched", "ks_mismatch")  # KS 0558 sent, 1148 expected
    other = db_session.scalars(select(BankLine).where(BankLine.amount == 69000)).one()
    assert other.status == "matched"  # no KS sent: the VS decides


def test_a_service_paid_to_its_own_account_is_not_matched_on_another(bank: Bank) -> None:
    from app.banking.accounts import create_account

    create_account(bank.municipality.id, "19-2000145399/0800", service_id=bank.service.id)
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    rules = {line.rule for line in db_session.scalars(select(BankLine).where(BankLine.amount > 0))}
    assert rules == {"other_account", "unknown_vs"}


def test_an_already_paid_obligation_sends_the_transfer_to_the_queue(bank: Bank) -> None:
    bank.obligations["123"].amount_paid = 150000
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "2026000123")).one()
    assert (line.status, line.rule) == ("unmatched", "already_paid")


def test_rules_without_the_database() -> None:
    assert decide(LineIn(100, "EUR", "credit", "1", None), Candidates()).rule == "wrong_currency"
    assert decide(LineIn(100, "CZK", "credit", None, None), Candidates()).rule == "no_vs"
    assert decide(LineIn(-100, "CZK", "debit", "1", None), Candidates()).status == "outgoing"


def test_leading_zeros_in_the_payer_list_do_not_hide_an_obligation(bank: Bank) -> None:
    add_obligation(bank.service, "0000000077", 100000, "C77", "Kůň Ondřej")
    bank.service.constant_symbol = None
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    line = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "77")).one()
    assert line.rule == "obligation_exact"


def test_matched_transfers_announce_their_payments_and_paid_obligations_to_webhooks(bank: Bank) -> None:
    from app.models import WebhookDelivery, WebhookEndpoint

    events = ["payment.paid", "obligation.paid"]
    ours = WebhookEndpoint(municipality_id=bank.municipality.id, url="http://127.0.0.1:9/", secret="s", events=events)
    elsewhere = make_municipality(name="Jiná obec", ico="00064581")
    theirs = WebhookEndpoint(municipality_id=elsewhere.id, url="http://127.0.0.1:9/", secret="s", events=events)
    db_session.add_all([ours, theirs])
    db_session.commit()
    run_import(bank, "fio_week_camt053.xml")
    deliveries = db_session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert {d.endpoint_id for d in deliveries} == {ours.id}
    paid = [d for d in deliveries if d.event_type == "payment.paid"]
    external_ids = set(db_session.scalars(select(Payment.external_id)))
    assert len(paid) == 6 and {json.loads(d.body)["data"]["payment"]["id"] for d in paid} == external_ids
    # 2026000124 is paid off by two transfers of the same statement: announced once.
    announced = sorted(json.loads(d.body)["data"]["obligation"]["id"] for d in deliveries
                       if d.event_type == "obligation.paid")  # fmt: skip
    assert announced == sorted(o.id for o in bank.obligations.values())
    assert len({d.event_id for d in deliveries}) == len(deliveries)


def test_an_obligation_with_a_specific_symbol_is_matched_only_by_a_transfer_carrying_it(bank: Bank) -> None:
    bank.obligations["123"].specific_symbol = "778899"  # the transfer carries no SS
    bank.obligations["456"].specific_symbol = "0042"  # the transfer carries SS 42
    db_session.commit()
    run_import(bank, "fio_week.gpc")
    first = db_session.scalars(select(BankLine).where(BankLine.variable_symbol == "2026000123")).one()
    assert (first.status, first.rule) == ("unmatched", "ss_mismatch")
    both = db_session.scalars(select(BankLine).where(BankLine.amount == 200000)).one()
    assert (both.status, both.rule) == ("matched", "payer_sum")
    db_session.refresh(bank.obligations["123"])
    assert bank.obligations["123"].amount_paid == 0


def test_specific_symbol_rules_without_the_database() -> None:
    from app.banking.matching import ObligationCand

    def rule(ss: str | None) -> str:
        candidates = Candidates(obligations={"5": ObligationCand(1, 1, 1000, "C1", None, "0042")})
        return decide(LineIn(1000, "CZK", "credit", "5", None, ss), candidates).rule

    assert [rule("42"), rule("0042"), rule("43"), rule(None)] == ["obligation_exact"] * 2 + ["ss_mismatch"] * 2
    plain = Candidates(obligations={"5": ObligationCand(1, 1, 1000, "C1", None)})
    assert decide(LineIn(1000, "CZK", "credit", "5", None, "77"), plain).rule == "obligation_exact"
