"""The Fio client against a fake Fio on loopback over real HTTP: pulls, the cursor, the
30-second throttle (short here), bad tokens and outages."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from fiobank import FioBank

from app.banking.statements import FioError, FioSource, FioThrottled
from tests.fakes.fio import FakeFio

TOKEN = "tokenObecSvetla0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
THROTTLE = 0.3


@pytest.fixture
def fio() -> Iterator[FakeFio]:
    fake = FakeFio(throttle_seconds=THROTTLE)
    fake.add_account(TOKEN, opening=12543050)
    fake.add_movement(
        TOKEN, day=date(2026, 11, 2), amount=150000, vs="2026000123", ks="0558",
        counter_account="19-2000145399", bank_code="0800", name="Dvořák Jan", message="Poplatek za psa 2026",
    )  # fmt: skip
    fake.add_movement(
        TOKEN, day=date(2026, 11, 3), amount=69050, vs="0002026000124", counter_account="1234567805",
        bank_code="0100", name="Černá Marie", message="Odpady",
    )  # fmt: skip
    fake.add_movement(TOKEN, day=date(2026, 11, 3), amount=-4500, type="Poplatek", message="Poplatek za vedení účtu")
    with fake.serve():
        yield fake


def source(fake: FakeFio, token: str = TOKEN) -> FioSource:
    return FioSource(token, fake.base_url, timeout=5)


def wait_out(fake: FakeFio) -> None:
    time.sleep(fake.throttle_seconds + 0.05)


def test_fetch_new_reads_the_movements_and_moves_the_cursor(fio: FakeFio) -> None:
    client = source(fio)
    statement = client.fetch_new()
    assert statement.source_format == "fio"
    assert (statement.account_number, statement.bank_code) == ("2801234578", "2010")
    assert [line.amount for line in statement.lines] == [150000, 69050, -4500]
    first, second, fee = statement.lines
    assert (first.variable_symbol, first.constant_symbol, first.counter_account, first.counter_bank_code) == (
        "2026000123", "0558", "19-2000145399", "0800",
    )  # fmt: skip
    assert (first.counter_name, first.message, first.bank_id) == ("Dvořák Jan", "Poplatek za psa 2026", "26512340001")
    assert second.variable_symbol == "2026000124"  # leading zeros dropped
    assert fee.kind == "fee"
    assert statement.last_id == "26512340003"
    assert statement.opening_balance + sum(line.amount for line in statement.lines) == statement.closing_balance

    wait_out(fio)
    assert client.fetch_new().lines == ()  # nothing new: the cursor moved
    fio.add_movement(TOKEN, day=date(2026, 11, 4), amount=35000, vs="2026000789", name="Řeháková Žaneta")
    wait_out(fio)
    again = client.fetch_new()
    assert [(line.amount, line.counter_name) for line in again.lines] == [(35000, "Řeháková Žaneta")]
    assert again.last_id == "26512340004"


def test_a_second_call_within_the_window_is_throttled_and_loses_nothing(fio: FakeFio) -> None:
    fio.throttle_seconds = 5  # wide enough that a slow, shared machine still calls within it
    client = source(fio)
    client.fetch_new()
    fio.add_movement(TOKEN, day=date(2026, 11, 4), amount=100000, vs="77")
    started = time.monotonic()
    with pytest.raises(FioThrottled) as caught:
        client.fetch_new()
    assert time.monotonic() - started < 5  # surfaces at once: no sleeping in the client
    assert caught.value.retry_after == 30.0  # Fio's rule, for the caller's schedule
    assert caught.value.code == "throttled"
    assert not caught.value.cursor_may_have_moved
    assert fio.requests[-1] == ("/v1/rest/last/TOKEN/transactions.json", 409)
    fio.reset_throttle()  # the 30 s have passed
    assert [line.amount for line in client.fetch_new().lines] == [100000]


def test_retry_after_from_the_server_is_passed_on(fio: FakeFio) -> None:
    fio.fail_next(1, status=409, headers={"Retry-After": "12"})
    with pytest.raises(FioThrottled) as caught:
        source(fio).fetch_new()
    assert caught.value.retry_after == 12.0
    # An outage of the API does not advance the cursor either.
    assert len(source(fio).fetch_new().lines) == 3


def test_a_bad_token_gets_a_clear_error_without_the_token(fio: FakeFio) -> None:
    bad = "wrongToken" + "x" * 54
    with pytest.raises(FioError) as caught:
        source(fio, bad).fetch_new()
    assert caught.value.code == "rejected"
    assert "token" in caught.value.message and "not active" in caught.value.message
    assert bad not in str(caught.value) and bad not in repr(source(fio, bad))


@pytest.mark.parametrize(("status", "code"), [(500, "rejected"), (503, "unavailable"), (502, "unavailable")])
def test_an_outage_keeps_the_cursor(fio: FakeFio, status: int, code: str) -> None:
    fio.fail_next(2, status=status)
    client = source(fio)
    for _ in range(2):
        with pytest.raises(FioError) as caught:
            client.fetch_new()
        assert caught.value.code == code
        assert not caught.value.cursor_may_have_moved
    assert len(client.fetch_new().lines) == 3  # everything still there


def test_a_garbled_answer_says_the_cursor_may_have_moved_and_set_last_id_recovers(fio: FakeFio) -> None:
    client = source(fio)
    first = client.fetch_new()
    kept = first.lines[0].bank_id  # say only the first line was stored before a crash
    fio.fail_next(1, status=200, body=b'{"accountStatement": {"info": {"openingBal')
    wait_out(fio)
    with pytest.raises(FioError) as caught:
        client.fetch_new()
    assert caught.value.code == "bad_response"
    assert caught.value.cursor_may_have_moved
    client.set_last_id(kept)
    wait_out(fio)
    assert [line.bank_id for line in client.fetch_new().lines] == ["26512340002", "26512340003"]


def test_fetch_period_checks_balances_and_keeps_the_cursor(fio: FakeFio) -> None:
    client = source(fio)
    statement = client.fetch_period(date(2026, 11, 3), date(2026, 11, 3))
    assert [line.amount for line in statement.lines] == [69050, -4500]
    assert (statement.opening_balance, statement.closing_balance) == (12693050, 12757600)
    assert (statement.period_from, statement.period_to) == (date(2026, 11, 3), date(2026, 11, 3))
    wait_out(fio)
    assert len(client.fetch_new().lines) == 3  # periods does not touch the cursor
    wait_out(fio)
    empty = client.fetch_period(date(2026, 12, 1), date(2026, 12, 2))
    assert (empty.lines, empty.opening_balance, empty.closing_balance) == ((), 12757600, 12757600)


def test_set_last_date(fio: FakeFio) -> None:
    client = source(fio)
    client.set_last_date(date(2026, 11, 2))
    wait_out(fio)
    assert [line.booking_date for line in client.fetch_new().lines] == [date(2026, 11, 3)] * 2


def test_unreachable_fio(fio: FakeFio) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on that port now: the request never left, the cursor cannot have moved.
    with pytest.raises(FioError) as caught:
        FioSource(TOKEN, f"http://127.0.0.1:{port}/v1/rest/", timeout=2).fetch_new()
    assert caught.value.code == "unreachable"
    assert not caught.value.cursor_may_have_moved


def test_the_fake_speaks_what_the_fiobank_package_understands(fio: FakeFio) -> None:
    # fiobank is written against the real API: if it reads the fake, the fake's shape is right.
    info, transactions = FioBank(TOKEN, decimal=True, base_url=fio.base_url).last_transactions()
    rows = list(transactions)
    assert info["account_number_full"] == "2801234578/2010"
    assert info["balance"] == Decimal("127576.00")
    assert [row["amount"] for row in rows] == [Decimal("1500.00"), Decimal("690.50"), Decimal("-45.00")]
    assert rows[0]["variable_symbol"] == "2026000123" and rows[0]["account_name"] == "Dvořák Jan"
    assert rows[0]["transaction_id"] == "26512340001"
