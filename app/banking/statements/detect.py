"""Which format an uploaded statement is in, from its first bytes (the name only breaks ties)."""

from __future__ import annotations

from .camt import parse_camt053
from .fio_json import parse_fio_json
from .gpc import parse_gpc
from .model import Statement, StatementError, check_size
from .swift_mt940 import parse_mt940

PARSERS = {"camt053": parse_camt053, "gpc": parse_gpc, "mt940": parse_mt940, "fio": parse_fio_json}


def sniff(data: bytes, filename: str | None = None) -> str:
    head = bytes(data[:4096]).lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff") or head[:4].count(b"\x00") >= 1:
        raise StatementError("wrong_encoding", "the file is UTF-16; banks export statements in UTF-8 or Windows-1250")
    if head.startswith(b"<"):
        return "camt053"
    if head.startswith(b"{"):
        return "fio"
    if head.startswith(b"074"):
        return "gpc"
    if head.startswith((b":20:", b"{1:", b":940:")) or b"\n:20:" in head[:200]:
        return "mt940"
    name = (filename or "").lower()
    for suffix, fmt in ((".gpc", "gpc"), (".abo", "gpc"), (".xml", "camt053"), (".sta", "mt940"), (".940", "mt940")):
        if name.endswith(suffix):
            return fmt
    raise StatementError("wrong_format", "not a bank statement: camt.053 (XML), GPC/ABO, MT940 or Fio JSON expected")


def detect_and_parse(data: bytes, filename: str | None = None, *, currency: str | None = None) -> Statement:
    """Parse a statement of any supported format. ``currency``: refuse a statement of an
    account in another currency (the portal's accounts are in CZK)."""
    check_size(data)
    statement = PARSERS[sniff(data, filename)](data)
    if currency is not None and statement.currency != currency:
        raise StatementError(
            "wrong_currency", f"the statement is in {statement.currency}; this account is in {currency}"
        )
    return statement
