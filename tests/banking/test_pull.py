"""Fio pulls into the portal, against the fake Fio over HTTP on loopback: new lines
matched, the throttle recorded, errors shown with the last successful pull, the cursor
put back when a pull could not be stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.banking import pulling
from app.banking.accounts import set_fio_token
from app.db import db_session, utcnow
from app.models import BankAccount, BankLine, Payment
from tests.banking.conftest import Bank
from tests.fakes.fio import FakeFio

TOKEN = "tokenSvetla0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"


@pytest.fixture
def fio(bank: Bank) -> Iterator[FakeFio]:
    fake = FakeFio(throttle_seconds=0.2)
    fake.add_account(TOKEN, opening=100000)
    fake.add_movement(TOKEN, day=date(2026, 11, 2), amount=150000, vs="2026000123", ks="0558",
                      counter_account="19-2000145399", bank_code="0800", name="Dvořák Jan")  # fmt: skip
    fake.add_movement(TOKEN, day=date(2026, 11, 3), amount=-4500, type="Poplatek", message="Poplatek za vedení")
    set_fio_token(bank.account, TOKEN)
    db_session.commit()
    with fake.serve():
        yield fake


def account(bank: Bank) -> BankAccount:
    db_session.expire_all()
    return db_session.get(BankAccount, bank.account.id)


def ready(bank: Bank) -> None:
    a = account(bank)
    a.next_pull_after = None
    db_session.commit()


def test_the_token_is_stored_encrypted(bank: Bank, fio: FakeFio) -> None:
    stored = account(bank).fio_token_encrypted
    assert stored and TOKEN.encode() not in stored


def test_a_pull_imports_and_matches_and_the_next_one_brings_only_new_lines(bank: Bank, fio: FakeFio) -> None:
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    assert (outcome.status, outcome.new_lines) == ("imported", 2)
    a = account(bank)
    assert a.fio_last_id == "26512340002" and a.last_pull_at is not None and a.last_pull_error is None
    assert db_session.scalar(select(Payment.state).where(Payment.gateway_name == "bank_transfer")) == "paid"

    fio.add_movement(TOKEN, day=date(2026, 11, 4), amount=69000, vs="2026000124", name="Černá Marie")
    assert pulling.pull_account(bank.account.id, base_url=fio.base_url).status == "waiting"  # our own 30 s rule
    ready(bank)
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    assert (outcome.status, outcome.new_lines) == ("imported", 1)
    assert db_session.scalar(select(func.count()).select_from(BankLine)) == 3


def test_a_409_is_recorded_and_retried_later_losing_nothing(bank: Bank, fio: FakeFio) -> None:
    fio.fail_next(1, status=409)
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    assert outcome.status == "throttled" and outcome.retry_after
    a = account(bank)
    assert a.next_pull_after is not None and "30 s" in a.last_pull_error
    ready(bank)
    assert pulling.pull_account(bank.account.id, base_url=fio.base_url).new_lines == 2


def test_a_bad_token_shows_the_error_beside_the_last_successful_pull(bank: Bank, fio: FakeFio) -> None:
    pulling.pull_account(bank.account.id, base_url=fio.base_url)
    last_ok = account(bank).last_pull_at
    ready(bank)
    set_fio_token(account(bank), "wrongtoken")
    db_session.commit()
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    a = account(bank)
    assert outcome.status == "failed" and "HTTP 500" in a.last_pull_error
    assert a.last_pull_at == last_ok


def test_an_answer_lost_on_the_way_puts_the_cursor_back_and_nothing_is_lost(bank: Bank, fio: FakeFio) -> None:
    fio.fail_next(1, status=200, body=b"{garbled")  # the cursor did not move at the fake, but it might have
    assert pulling.pull_account(bank.account.id, base_url=fio.base_url).status == "failed"
    assert account(bank).fio_cursor_suspect
    # Meanwhile Fio handed the movements to someone else's call: the cursor moved on.
    fio.accounts[TOKEN].cursor = 26512340002
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    assert outcome.status == "cursor_reset"
    ready(bank)
    fio.reset_throttle()
    outcome = pulling.pull_account(bank.account.id, base_url=fio.base_url)
    assert (outcome.status, outcome.new_lines) == ("imported", 2)


def test_an_outage_keeps_the_last_pull_and_the_cli_reports_each_account(bank: Bank, fio: FakeFio, app) -> None:  # type: ignore[no-untyped-def]
    fio.fail_next(1, status=503)
    app.config["FIO_API_URL"] = fio.base_url
    result = app.test_cli_runner().invoke(args=["banking", "pull"])
    assert f"account {bank.account.id}: failed" in result.output and "503" in result.output
    a = account(bank)
    assert a.last_pull_error and a.last_pull_error_at and a.last_pull_at is None
    a.next_pull_after = utcnow() - timedelta(seconds=1)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["banking", "pull"])
    assert "imported 2 new lines" in result.output


def test_the_rq_job_pulls_an_account(bank: Bank, fio: FakeFio, app) -> None:  # type: ignore[no-untyped-def]
    from app.banking.jobs import pull_account_job, pull_all_job

    app.config["FIO_API_URL"] = fio.base_url
    assert pull_account_job(bank.account.id) == "imported"
    assert pull_all_job() == 1  # inline without Redis: the account waits out its 30 s
    assert account(bank).last_pull_error is None
