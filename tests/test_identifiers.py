"""Czech identifiers: IČO, bank accounts, IBAN — checked against real data and, where
one exists, an independent implementation (python-stdnum, schwifty)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from schwifty import IBAN
from stdnum.cz import bankaccount, dic

from app.identifiers import (
    account_or_iban_to_iban,
    czech_account_to_iban,
    is_valid_czech_account,
    is_valid_iban,
    is_valid_ico,
    normalize_iban,
    slugify,
)

CSV = Path(__file__).resolve().parent.parent / "app" / "data" / "liberec_municipalities.csv"


def _municipalities() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_all_215_liberec_municipalities_have_a_valid_ico() -> None:
    rows = _municipalities()
    assert len(rows) == 215
    bad = [(r["name"], r["ico"]) for r in rows if not is_valid_ico(r["ico"])]
    assert bad == []
    assert len({r["ico"] for r in rows}) == 215


def test_every_real_ico_with_one_digit_changed_fails() -> None:
    for row in _municipalities():
        ico = row["ico"]
        last = int(ico[7])
        for wrong in {(last + k) % 10 for k in range(1, 10)}:
            assert not is_valid_ico(ico[:7] + str(wrong)), ico


def test_ico_agrees_with_stdnum_mod11() -> None:
    # FACTS: the 8-digit IČO uses the same mod-11 check as stdnum.cz.dic's legal-entity DIČ.
    rng = random.Random(7)
    for _ in range(5000):
        ico = f"{rng.randrange(10**8):08d}"
        assert is_valid_ico(ico) == (dic.calc_check_digit_legal(ico[:7]) == ico[7]), ico


@pytest.mark.parametrize(
    "ico",
    [
        "",
        "   ",
        "abc",
        "0026297",
        "002629781",
        "00262979",
        "0026-978",
        "0026297\u0668",
        "００２６２９７８",
        "00262978x",
        None,
    ],
)
def test_bad_icos_fail(ico: str | None) -> None:
    assert not is_valid_ico(ico)  # type: ignore[arg-type]


def test_ico_tolerates_surrounding_spaces_and_pads_short_ones() -> None:
    assert is_valid_ico(" 00262978 ")
    assert is_valid_ico("262978") == is_valid_ico("00262978")


ACCOUNTS = [
    ("19-2000145399/0800", "CZ6508000000192000145399"),
    ("2000145399/0800", None),
    ("123457/0100", None),
    ("0000192000145399/0800", None),
]


@pytest.mark.parametrize(("account", "iban"), ACCOUNTS)
def test_czech_account_to_iban_agrees_with_schwifty(account: str, iban: str | None) -> None:
    if not bankaccount.is_valid(account):
        assert not is_valid_czech_account(account)
        return
    ours = czech_account_to_iban(account)
    assert IBAN(ours, validate_bban=True).compact == ours
    if iban:
        assert ours == iban


def test_random_accounts_agree_with_stdnum_and_schwifty() -> None:
    rng = random.Random(11)
    seen_valid = 0
    for _ in range(3000):
        prefix = rng.choice(["", f"{rng.randrange(10**6)}-"])
        account = f"{prefix}{rng.randrange(10, 10**10)}/{rng.choice(['0100', '0300', '0800', '2010', '5500'])}"
        ours = is_valid_czech_account(account)
        assert ours == bankaccount.is_valid(account), account
        if ours:
            seen_valid += 1
            iban = czech_account_to_iban(account)
            assert is_valid_iban(iban)
            assert IBAN(iban, validate_bban=True).compact == iban
    assert seen_valid > 50  # the check above really ran on valid accounts


@pytest.mark.parametrize(
    "account",
    [
        "",
        "19-2000145398/0800",
        "2000145399",
        "/0800",
        "19-2000145399/08",
        "19-2000145399/08000",
        "abc/0800",
        "1234567-2000145399/0800",
        "0/0800",
        "19-20001453\u0669\u0669/0800",
    ],
)
def test_bad_czech_accounts_fail(account: str) -> None:
    assert not is_valid_czech_account(account)
    with pytest.raises(ValueError):
        czech_account_to_iban(account)


def test_account_with_spaces_is_accepted() -> None:
    assert czech_account_to_iban(" 19 - 2000145399 / 0800 ") == "CZ6508000000192000145399"


@pytest.mark.parametrize(
    "iban",
    ["CZ6508000000192000145399", "cz65 0800 0000 1920 0014 5399", "DE89370400440532013000", "GB82WEST12345698765432"],
)
def test_valid_ibans(iban: str) -> None:
    assert is_valid_iban(iban)
    assert account_or_iban_to_iban(iban) == normalize_iban(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "",
        "CZ6608000000192000145399",  # wrong IBAN check digits
        "CZ6508000000192000145398",  # wrong digit
        # Correct mod-97 digits but a BBAN whose account number fails the Czech mod 11:
        "CZ1208000000192000145398",
        "CZ650800000019200014539",  # too short for CZ
        "XX",
        "DE8937040044053201300",
        "CZ\u0666\u00358000000192000145399",
    ],
)
def test_invalid_ibans(iban: str) -> None:
    assert not is_valid_iban(iban)
    with pytest.raises(ValueError):
        account_or_iban_to_iban(iban)


def test_czech_iban_bban_check_agrees_with_schwifty() -> None:
    from schwifty.exceptions import SchwiftyException

    rng = random.Random(3)
    for _ in range(2000):
        bban = f"0800{rng.randrange(10**6):06d}{rng.randrange(10**10):010d}"
        check = 98 - int(bban + "123500") % 97
        iban = f"CZ{check:02d}{bban}"
        try:
            IBAN(iban, validate_bban=True)
            theirs = True
        except SchwiftyException:
            theirs = False
        assert is_valid_iban(iban) == theirs, iban


def test_slugify_czech_names() -> None:
    assert slugify("Albrechtice v Jizerských horách") == "albrechtice-v-jizerskych-horach"
    assert slugify("  Český Dub – město ") == "cesky-dub-mesto"
    assert slugify("Žďár") == "zdar"


def test_accounts_and_ibans_of_unknown_banks_are_refused() -> None:
    # Both mod-11 checks pass, but no Czech bank has the code 9999.
    assert is_valid_czech_account("19-2000145399/0800")
    assert not is_valid_czech_account("19-2000145399/9999")
    with pytest.raises(ValueError):
        account_or_iban_to_iban("19-2000145399/9999")
    assert not is_valid_iban("CZ7799990000192000145399")
    with pytest.raises(ValueError):
        account_or_iban_to_iban("CZ7799990000192000145399")
