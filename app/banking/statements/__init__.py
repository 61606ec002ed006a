"""Reading bank statements into plain values: camt.053, GPC/ABO, MT940 and Fio's JSON
(files and the Fio API). Pure: no ORM, no Flask; matching and storage build on it.

    statement = detect_and_parse(data, filename, currency="CZK")   # or parse_gpc(data), …
    for line in statement.lines: line.bank_id or line.checksum, line.variable_symbol, …

Every refusal is a ``StatementError`` with a stable ``code``."""

from .camt import parse_camt053
from .detect import detect_and_parse, sniff
from .fio import FioError, FioSource, FioThrottled
from .fio_json import parse_fio_json
from .gpc import parse_gpc
from .model import MAX_BYTES, Statement, StatementError, StatementLine
from .swift_mt940 import parse_mt940

__all__ = [
    "MAX_BYTES",
    "FioError",
    "FioSource",
    "FioThrottled",
    "Statement",
    "StatementError",
    "StatementLine",
    "detect_and_parse",
    "parse_camt053",
    "parse_fio_json",
    "parse_gpc",
    "parse_mt940",
    "sniff",
]
