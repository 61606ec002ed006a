"""Czech identifiers: IČO (mod 11), bank accounts and IBAN."""

from __future__ import annotations

import re
import unicodedata

# ASCII digits only: \d and str.isdigit() also accept other scripts' digits.
_ACCOUNT_RE = re.compile(r"^(?:([0-9]{1,6})-)?([0-9]{2,10})/([0-9]{4})$")
_ICO_RE = re.compile(r"^[0-9]{1,8}$")
_WEIGHTS = (6, 3, 7, 9, 10, 5, 8, 4, 2, 1)


def is_valid_ico(ico: str) -> bool:
    """The 8-digit IČO: weighted sum of the first seven digits, mod 11 (shorter ones padded)."""
    ico = (ico or "").strip()
    if not _ICO_RE.match(ico):
        return False
    ico = ico.zfill(8)
    total = sum(int(d) * w for d, w in zip(ico[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 10
    return int(ico[7]) == check


def _mod11_ok(digits: str) -> bool:
    digits = digits.zfill(10)
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11 == 0


def is_valid_czech_account(text: str) -> bool:
    m = _ACCOUNT_RE.match(re.sub(r"\s+", "", text or ""))
    if not m:
        return False
    prefix, number, _bank = m.groups()
    return _mod11_ok(prefix or "0") and _mod11_ok(number) and int(number) > 0


def czech_account_to_iban(text: str) -> str:
    """'19-2000145399/0800' → 'CZ6508000000192000145399'."""
    m = _ACCOUNT_RE.match(re.sub(r"\s+", "", text or ""))
    if not m or not is_valid_czech_account(text):
        raise ValueError("invalid Czech account number")
    prefix, number, bank = m.groups()
    bban = bank + (prefix or "0").zfill(6) + number.zfill(10)
    check = 98 - int(bban + "123500") % 97
    return f"CZ{check:02d}{bban}"


def normalize_iban(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def is_valid_iban(text: str) -> bool:
    iban = normalize_iban(text)
    if not re.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    if int(digits) % 97 != 1:
        return False
    if iban.startswith("CZ"):
        # The Czech BBAN carries its own mod-11 checks on prefix and number.
        return len(iban) == 24 and _mod11_ok(iban[8:14]) and _mod11_ok(iban[14:24])
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
