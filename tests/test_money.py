"""Money: what people type into the amount field, and how sums are printed."""

from __future__ import annotations

import pytest

from app.money import (
    MAX_AMOUNT,
    AmountError,
    amount_input,
    format_btc,
    format_czk,
    format_rate,
    parse_czk,
    to_decimal_string,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("text", "haler"),
    [
        ("500", 50000),
        ("0", 0),
        ("1250,50", 125050),
        ("1250.50", 125050),
        ("99,5", 9950),
        ("99.5", 9950),
        ("0,01", 1),
        ("0.05", 5),
        ("1 250", 125000),
        (f"1{NBSP}250,50", 125050),
        ("1\u202f250", 125000),  # narrow no-break space
        ("1\u2009250", 125000),  # thin space
        ("  1 234 567  ", 123456700),
        ("100 Kč", 10000),
        ("100Kč", 10000),
        ("100 KČ", 10000),
        ("100 kč", 10000),
        ("100 CZK", 10000),
        ("100,-", 10000),
        ("100,- Kč", 10000),
        (f"1{NBSP}250,-{NBSP}Kč", 125000),
        ("007", 700),
        (" 10\t", 1000),
        ("10000000", MAX_AMOUNT),
    ],
)
def test_parse_czk_accepts_what_people_type(text: str, haler: int) -> None:
    assert parse_czk(text) == haler
    assert isinstance(parse_czk(text), int)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        (NBSP, "missing"),
        ("Kč", "missing"),
        ("-5", "negative"),
        ("- 5", "negative"),
        ("\u22125", "negative"),  # minus sign
        ("-0,50 Kč", "negative"),
        ("1,505", "not_a_number"),  # too many decimals
        ("1.999", "not_a_number"),
        ("1.250,50", "not_a_number"),  # thousands dots are ambiguous: refused
        ("1,250.50", "not_a_number"),
        (",50", "not_a_number"),
        ("abc", "not_a_number"),
        ("12abc", "not_a_number"),
        ("1e9", "not_a_number"),
        ("NaN", "not_a_number"),
        ("inf", "not_a_number"),
        ("0x10", "not_a_number"),
        ("+5", "not_a_number"),
        ("5 %", "not_a_number"),
        ("\u0661\u0660\u0660", "not_a_number"),  # Arabic-Indic digits: int() would take them
        ("１００", "not_a_number"),  # full-width digits
        ("100 EUR", "not_a_number"),
        ("1" * 13, "not_a_number"),
        ("9" * 500, "not_a_number"),
        ("10000000,01", "too_large"),
        ("999999999999", "too_large"),
    ],
)
def test_parse_czk_refuses_junk_with_a_reason(text: str | None, code: str) -> None:
    with pytest.raises(AmountError) as exc:
        parse_czk(text)
    assert str(exc.value) == code


def test_max_amount_fits_a_32_bit_column() -> None:
    assert MAX_AMOUNT < 2**31 - 1


@pytest.mark.parametrize(
    ("haler", "text"),
    [
        (0, f"0{NBSP}Kč"),
        (1, f"0,01{NBSP}Kč"),
        (50, f"0,50{NBSP}Kč"),
        (50000, f"500{NBSP}Kč"),
        (125050, f"1{NBSP}250,50{NBSP}Kč"),
        (1234567890, f"12{NBSP}345{NBSP}678,90{NBSP}Kč"),
        (10**15, f"10{NBSP}000{NBSP}000{NBSP}000{NBSP}000{NBSP}Kč"),
        (-150, f"-1,50{NBSP}Kč"),
        (-50, f"-0,50{NBSP}Kč"),
    ],
)
def test_format_czk(haler: int, text: str) -> None:
    assert format_czk(haler) == text
    assert format_czk(haler, symbol=False) == text.removesuffix(f"{NBSP}Kč")


def test_format_czk_of_nothing_is_empty() -> None:
    assert format_czk(None) == ""


@pytest.mark.parametrize("haler", [0, 1, 5, 99, 100, 125050, 999_999_999, MAX_AMOUNT])
def test_format_and_parse_round_trip(haler: int) -> None:
    assert parse_czk(format_czk(haler)) == haler
    assert parse_czk(to_decimal_string(haler)) == haler


@pytest.mark.parametrize(
    ("haler", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (12345, "123.45"),
        (50000, "500.00"),
        (-150, "-1.50"),
        (-1, "-0.01"),
        (10**14, "1000000000000.00"),
    ],
)
def test_to_decimal_string(haler: int, text: str) -> None:
    assert to_decimal_string(haler) == text


def test_pay_form_refuses_a_huge_amount_with_a_message_not_a_500(app, client) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.db import db_session
    from app.models import AmountMode, Payment
    from tests.factories import make_municipality, make_service

    m = make_municipality()
    s = make_service(m, amount_mode=AmountMode.PAYER, amount=None)  # no min, no max
    base = {"name": "Jan Novák", "email": "jan@example.cz"}
    for amount, message in (("50000000", "Částka je příliš vysoká."), ("1,505", "Částka musí být číslo")):
        r = client.post(f"/obec/{m.slug}/{s.slug}", data={**base, "amount": amount})
        assert r.status_code == 422 and message in r.text
    assert db_session.scalar(select(func.count(Payment.id))) == 0
    r = client.post(f"/obec/{m.slug}/{s.slug}", data={**base, "amount": "10 000 000 Kč"})
    assert r.status_code == 303
    assert db_session.scalar(select(Payment.amount)) == MAX_AMOUNT


@pytest.mark.parametrize(
    ("haler", "cs", "en"),
    [
        (1234550, f"12{NBSP}345,50{NBSP}Kč", f"CZK{NBSP}12,345.50"),
        (50000, f"500{NBSP}Kč", f"CZK{NBSP}500"),
        (-150, f"-1,50{NBSP}Kč", f"-CZK{NBSP}1.50"),
    ],
)
def test_format_czk_follows_the_language(haler: int, cs: str, en: str) -> None:
    assert format_czk(haler, locale="cs") == cs
    assert format_czk(haler, locale="en") == en


def test_amount_input_is_the_same_in_every_language_and_parses_back(app) -> None:  # type: ignore[no-untyped-def]
    for lang in ("cs", "en"):
        with app.test_request_context(f"/?lang={lang}"):
            assert amount_input(125050) == f"1{NBSP}250,50"
            assert parse_czk(amount_input(125050)) == 125050


def test_english_pages_print_amounts_the_english_way(app, client) -> None:  # type: ignore[no-untyped-def]
    from app.models import AmountMode
    from tests.factories import make_municipality, make_service

    m = make_municipality()
    s = make_service(m, amount_mode=AmountMode.PAYER, amount=None, amount_min=2000, amount_max=125050)
    assert f"1{NBSP}250,50{NBSP}Kč" in client.get(f"/obec/{m.slug}/{s.slug}").text
    assert f"CZK{NBSP}1,250.50" in client.get(f"/obec/{m.slug}/{s.slug}?lang=en").text


def test_btc_amounts_and_rates_in_the_language_of_the_page() -> None:
    assert format_btc("0.0002174", locale="cs") == "0,00021740"
    assert format_btc("1.5", locale="en") == "1.50000000"
    assert format_rate("2300000", locale="cs") == "2\xa0300\xa0000"
    assert format_rate("2312345.678", locale="cs") == "2\xa0312\xa0345,68"
    assert format_rate("2312345.678", locale="en") == "2,312,345.68"
    # Whatever else a gateway sent is shown as it came, never a 500.
    assert format_btc("n/a", locale="cs") == "n/a" and format_rate("Infinity", locale="cs") == "Infinity"
    assert format_btc(None, locale="cs") == ""
