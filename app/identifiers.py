"""Czech identifiers (IČO, bank accounts, IBAN) checked with python-stdnum and schwifty,
and URL slugs of Czech names.

python-stdnum has no IČO module: the 8-digit IČO uses the same mod-11 check as a legal
entity's DIČ (``stdnum.cz.dic``). A Czech account must name a bank that exists
(``stdnum.cz.bankaccount`` knows the Czech National Bank's list), and so must a Czech IBAN.
"""

from __future__ import annotations

import re
import unicodedata

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.cz import bankaccount, dic

# ASCII digits only: \d and str.isdigit() also accept other scripts' digits.
_ICO_RE = re.compile(r"^[0-9]{1,8}$")
_ACCOUNT_RE = re.compile(r"^(?:([0-9]{1,6})-)?([0-9]{2,10})/([0-9]{4})$")


def is_valid_ico(ico: str) -> bool:
    """The 8-digit IČO (shorter ones padded with zeros), surrounding spaces tolerated."""
    ico = (ico or "").strip()
    if not _ICO_RE.match(ico):
        return False
    ico = ico.zfill(8)
    return dic.calc_check_digit_legal(ico[:7]) == ico[7]


def _account_parts(text: str) -> tuple[str, str, str] | None:
    """(prefix, number, bank code) of a valid Czech account with a known bank, else None."""
    compact = re.sub(r"\s+", "", text or "")
    m = _ACCOUNT_RE.match(compact)
    if not m or not bankaccount.is_valid(compact):
        return None
    prefix, number, bank = m.groups()
    return prefix or "0", number, bank


def is_valid_czech_account(text: str) -> bool:
    return _account_parts(text) is not None


def czech_account_to_iban(text: str) -> str:
    """'19-2000145399/0800' → 'CZ6508000000192000145399'."""
    parts = _account_parts(text)
    if parts is None:
        raise ValueError("invalid Czech account number")
    prefix, number, bank = parts
    return IBAN.generate("CZ", bank_code=bank, branch_code=prefix.zfill(6), account_code=number.zfill(10)).compact


def normalize_iban(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def is_valid_iban(text: str) -> bool:
    iban = normalize_iban(text)
    if not re.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$", iban):
        return False
    try:
        IBAN(iban, validate_bban=True)
    except SchwiftyException:
        return False
    if iban.startswith("CZ"):
        # schwifty checks the Czech BBAN's mod-11 digits but not that the bank exists.
        return bankaccount.is_valid(f"{iban[8:14]}-{iban[14:24]}/{iban[4:8]}")
    return True


def account_or_iban_to_iban(text: str) -> str:
    """Accept what a clerk types (Czech account or IBAN) and give a valid IBAN."""
    text = (text or "").strip()
    if "/" in text:
        return czech_account_to_iban(text)
    iban = normalize_iban(text)
    if not is_valid_iban(iban):
        raise ValueError("invalid IBAN")
    return iban


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
