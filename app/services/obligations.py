"""Obligations ("předpisy"): importing payer lists, looking up what a payer owes, and
crediting payments to obligations.

``import_obligations`` reads CSV (UTF-8 or Windows-1250, with or without BOM, ``;``,
``,`` or tab) and XLSX, validates every row and reports every bad one with its line
number and a Czech reason, then writes all rows with one bulk upsert per batch
(``INSERT … ON CONFLICT (service_id, customer_id) DO UPDATE``) in one transaction.
By default nothing is written when any row is bad.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import db_session, utcnow
from app.models import (
    AmountMatch,
    ImportStatus,
    Obligation,
    ObligationImport,
    Payment,
    PaymentEvent,
    PaymentState,
    Service,
)
from app.services.money import format_czk
from app.services.payments import AmountRuleError, on_transition

DEFAULT_MAX_IMPORT_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 10_000
MAX_STORED_ERRORS = 5000
MAX_AMOUNT_CZK = 10_000_000  # amounts are int4 haléře in the database

Progress = Callable[[int, int], None]

# -- columns ---------------------------------------------------------------------------
# Header synonyms, compared without case, diacritics and punctuation.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "zakaznicke cislo", "cislo zakaznika", "cislo platce", "id platce", "id zakaznika",
        "kod platce", "osobni cislo", "evidencni cislo", "zakaznik", "customer id",
    ),
    "payer_name": (
        "jmeno", "platce", "jmeno platce", "jmeno a prijmeni", "prijmeni a jmeno", "nazev platce",
        "nazev", "poplatnik", "name",
    ),
    "amount": ("castka", "castka kc", "castka v kc", "k uhrade", "castka k uhrade", "predpis", "amount"),
    "due_date": ("splatnost", "datum splatnosti", "splatno", "splatnost do", "due date"),
    "variable_symbol": ("variabilni symbol", "vs", "var symbol", "variabilni", "variable symbol"),
    "period": ("obdobi", "za obdobi", "rok", "period"),
    "note": ("poznamka", "poznamky", "popis", "note"),
}
REQUIRED_COLUMNS = ("customer_id", "payer_name", "amount")
COLUMN_LABELS = {
    "customer_id": "Zákaznické číslo",
    "payer_name": "Jméno",
    "amount": "Částka",
    "due_date": "Splatnost",
    "variable_symbol": "Variabilní symbol",
    "period": "Období",
    "note": "Poznámka",
}


def _fold(text: str) -> str:
    """'Variabilní  symbol:' → 'variabilni symbol'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


_HEADER_INDEX = {_fold(s): key for key, synonyms in COLUMN_SYNONYMS.items() for s in synonyms}


# -- the report ------------------------------------------------------------------------
@dataclass
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Řádek {self.line}"
        if self.column:
            where += f", sloupec {COLUMN_LABELS.get(self.column, self.column)}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    filename: str
    total_rows: int = 0
    valid_rows: int = 0
    inserted: int = 0
    updated: int = 0  # existing rows that changed
    unchanged: int = 0  # existing rows the file repeats as they are
    imported: bool = False
    file_errors: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    write_seconds: float = 0.0  # of which writing to the database

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def summary(self) -> str:
        if self.file_errors:
            return "Soubor nebyl importován: " + " ".join(self.file_errors)
        if not self.imported:
            return (
                f"Soubor nebyl importován: chybných řádků je {len(self.bad_lines)} z {self.total_rows}. "
                "Opravte je a nahrajte soubor znovu."
            )
        text = (
            f"Importováno předpisů: {self.inserted + self.updated + self.unchanged} "
            f"(nových {self.inserted}, změněných {self.updated}, beze změny {self.unchanged})."
        )
        if self.errors:
            text += f" Vynecháno chybných řádků: {len(self.bad_lines)}."
        return text

    def lines(self) -> list[str]:
        return [self.summary(), *(str(e) for e in self.errors)]

    def to_dict(self, max_errors: int | None = None) -> dict[str, Any]:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {
            "filename": self.filename,
            "ok": self.ok,
            "imported": self.imported,
            "summary": self.summary(),
            "total_rows": self.total_rows,
            "valid_rows": self.valid_rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "file_errors": list(self.file_errors),
            "error_count": len(self.errors),
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in errors],
            "seconds": round(self.seconds, 3),
        }


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is Czech and shown as is."""


# -- reading the file ------------------------------------------------------------------
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ImportFileError(
            "Soubor je v nepodporovaném kódování (UTF-16 nebo binární data). Uložte jej jako CSV v kódování UTF-8 nebo Windows-1250."
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"Soubor se hlásí jako UTF-8, ale obsahuje neplatné znaky (bajt {exc.start + 3}). Uložte jej znovu v kódování UTF-8."
            ) from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1250")
            except UnicodeDecodeError:
                raise ImportFileError(
                    "Kódování souboru nelze rozpoznat. Uložte jej jako CSV v kódování UTF-8 nebo Windows-1250."
                ) from None
    bad = _CONTROL_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ImportFileError(
            f"Soubor obsahuje neplatné řídicí znaky (řádek {line}); nejde o textový soubor CSV v kódování UTF-8 nebo Windows-1250."
        )
    return text


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _detect_delimiter(first_line)
    skip_first = False
    # Excel's hint line "sep=;" names the delimiter and is not the header.
    if first_line.strip().lower().startswith("sep=") and len(first_line.strip()) == 5:
        delimiter, skip_first = first_line.strip()[4], True
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    if skip_first:
        for row in reader:
            if row:
                break
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"Řádek {start}: soubor CSV je poškozený ({exc}).") from None
        yield start, row


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"Soubor XLSX nelze přečíst ({type(exc).__name__}). Uložte jej znovu v Excelu jako .xlsx nebo jako CSV.") from None
    try:
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        wb.close()


def _rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Starý formát Excelu (.xls) není podporován. Uložte soubor jako .xlsx nebo CSV.")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError("Soubor má příponu .xlsx, ale není platný soubor Excelu.")
    return _csv_rows(data)


# -- values ----------------------------------------------------------------------------
_AMOUNT_FAST = re.compile(r"^(\d{1,8})(?:,(\d{1,2}))?$")
_AMOUNT_PLAIN = re.compile(r"^\d{1,9}(?:[.,]\d{1,2})?$")
_AMOUNT_DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?$")
_DATE_CZ = re.compile(r"^(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
CUSTOMER_ID_RE = re.compile(r"^[\w\-/. ]{1,50}$")


class _Bad(ValueError):
    pass


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def parse_amount(value: Any) -> int:
    """'1 250,50' / '1.250,50' / '1250.5' / 1250.5 → haléře; _Bad with a Czech reason."""
    if type(value) is str:
        m = _AMOUNT_FAST.match(value.replace(" ", ""))
        if m:
            crowns, hal = m.groups()
            amount = int(crowns) * 100 + (int(hal) * (10 if len(hal) == 1 else 1) if hal else 0)
            if 0 < amount <= MAX_AMOUNT_CZK * 100:
                return amount
    if isinstance(value, bool):
        raise _Bad("Částka není číslo.")
    if isinstance(value, int | float | Decimal):
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            raise _Bad("Částka není číslo.") from None
        if d < 0:
            raise _Bad(f"Částka {_text(value)} je záporná.")
        if d != d.quantize(Decimal("0.01")):
            raise _Bad(f"Částka {_text(value)} má víc než dvě desetinná místa.")
        if d == 0:
            raise _Bad("Částka musí být větší než nula.")
        if d > MAX_AMOUNT_CZK:
            raise _Bad(f"Částka je vyšší než {MAX_AMOUNT_CZK:,} Kč.".replace(",", " "))
        return int(d * 100)
    raw = _text(value)
    if not raw:
        raise _Bad("Chybí částka.")
    cleaned = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    cleaned = re.sub(r"(?i)(kč|czk|,-|,--)$", "", cleaned)
    if cleaned.startswith(("-", "−")) or cleaned.endswith("-"):
        raise _Bad(f"Částka „{raw}“ je záporná.")
    if _AMOUNT_DOT_THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    if not _AMOUNT_PLAIN.match(cleaned):
        raise _Bad(f"Částka „{raw[:40]}“ není číslo v korunách (např. 1 250,50).")
    crowns, _, hal = cleaned.replace(",", ".").partition(".")
    amount = int(crowns) * 100 + int((hal or "0").ljust(2, "0"))
    if amount == 0:
        raise _Bad("Částka musí být větší než nula.")
    if amount > MAX_AMOUNT_CZK * 100:
        raise _Bad(f"Částka je vyšší než {MAX_AMOUNT_CZK:,} Kč.".replace(",", " "))
    return amount


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if type(value) is str:
        m = _DATE_CZ.match(value)
        if m:
            try:
                return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                raise _Bad(f"Datum „{value[:40]}“ neexistuje.") from None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = _text(value)
    if not raw:
        return None
    m = _DATE_CZ.match(raw)
    if m:
        d, mo, y = (int(g) for g in m.groups())
    else:
        m = _DATE_ISO.match(raw)
        if not m:
            raise _Bad(f"Datum „{raw[:40]}“ nemá tvar den. měsíc. rok (např. 31. 3. 2026) ani 2026-03-31.")
        y, mo, d = (int(g) for g in m.groups())
    try:
        return date(y, mo, d)
    except ValueError:
        raise _Bad(f"Datum „{raw[:40]}“ neexistuje.") from None


def parse_variable_symbol(value: Any) -> str | None:
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 10:
        return value
    raw = _text(value).replace(" ", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise _Bad(f"Variabilní symbol „{raw[:40]}“ smí obsahovat jen číslice.")
    if len(raw) > 10:
        raise _Bad(f"Variabilní symbol „{raw[:40]}“ je delší než 10 číslic.")
    return raw


# -- import ----------------------------------------------------------------------------
def _map_header(line: int, header: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header):
        name = _text(cell)
        if not name:
            continue
        key = _HEADER_INDEX.get(_fold(name))
        if key is None:
            unknown.append(name)
        elif key in columns:
            raise ImportFileError(f"Řádek {line}: sloupec „{name}“ je v záhlaví dvakrát.")
        else:
            columns[key] = index
    problems = []
    missing = [COLUMN_LABELS[k] for k in REQUIRED_COLUMNS if k not in columns]
    if missing:
        problems.append("Chybí povinný sloupec: " + ", ".join(f"„{m}“" for m in missing) + ".")
    if unknown:
        allowed = ", ".join(COLUMN_LABELS.values())
        problems.append(
            "Neznámý sloupec: " + ", ".join(f"„{u[:60]}“" for u in unknown) + f" (povolené sloupce: {allowed})."
        )
    if problems:
        raise ImportFileError(f"Řádek {line} (záhlaví): " + " ".join(problems))
    return columns


def _validate(
    rows: Iterator[tuple[int, list[Any]]], report: ImportReport
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every row checked; returns the good rows and {customer_id: line}."""
    header_line = 0
    columns: dict[str, int] = {}
    for line, row in rows:
        if any(_text(c) for c in row):
            header_line = line
            columns = _map_header(line, row)
            break
    if not header_line:
        raise ImportFileError("Soubor je prázdný: chybí záhlaví i řádky s předpisy.")
    width = len(columns)
    known_indexes = set(columns.values())
    good: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    seen_vs: dict[str, int] = {}
    errors = report.errors
    ic, iname, iamount, idue, ivs, iperiod, inote = (columns.get(k, -1) for k in COLUMN_LABELS)
    need = max(columns.values()) + 1
    customer_id_ok = CUSTOMER_ID_RE.match
    # The hot loop: 100,000 rows must take well under a second or two.
    for line, raw in rows:
        row = [c.strip() if type(c) is str else c for c in raw]
        if not any(c is not None and c != "" for c in row):
            continue
        report.total_rows += 1
        if len(row) < need:
            row.extend([None] * (need - len(row)))
        row_errors: list[RowError] = []
        if len(row) > width:
            extra = [i for i, c in enumerate(row) if i not in known_indexes and c is not None and c != ""]
            if extra:
                row_errors.append(
                    RowError(line, None, f"Řádek má hodnotu ve sloupci bez názvu (sloupec {extra[0] + 1}); záhlaví má {width} sloupců.")
                )
        customer_id = _text(row[ic])
        if not customer_id:
            row_errors.append(RowError(line, "customer_id", "Chybí zákaznické číslo."))
        elif not customer_id_ok(customer_id):
            row_errors.append(
                RowError(line, "customer_id", f"Zákaznické číslo „{customer_id[:60]}“ smí mít nejvýš 50 znaků: písmena, číslice, mezery a - / . _")
            )
        elif customer_id in seen_ids:
            row_errors.append(
                RowError(line, "customer_id", f"Zákaznické číslo „{customer_id}“ je v souboru už na řádku {seen_ids[customer_id]}.")
            )
        else:
            seen_ids[customer_id] = line
        payer_name = _text(row[iname])
        if "  " in payer_name:
            payer_name = " ".join(payer_name.split())
        if not payer_name:
            row_errors.append(RowError(line, "payer_name", "Chybí jméno plátce."))
        elif len(payer_name) > 200:
            row_errors.append(RowError(line, "payer_name", "Jméno plátce je delší než 200 znaků."))
        amount = due = vs = None
        try:
            amount = parse_amount(row[iamount])
        except _Bad as exc:
            row_errors.append(RowError(line, "amount", str(exc)))
        if idue >= 0:
            try:
                due = parse_date(row[idue])
            except _Bad as exc:
                row_errors.append(RowError(line, "due_date", str(exc)))
        if ivs >= 0:
            try:
                vs = parse_variable_symbol(row[ivs])
            except _Bad as exc:
                row_errors.append(RowError(line, "variable_symbol", str(exc)))
            if vs:
                if vs in seen_vs:
                    row_errors.append(
                        RowError(line, "variable_symbol", f"Variabilní symbol {vs} je v souboru už na řádku {seen_vs[vs]}.")
                    )
                else:
                    seen_vs[vs] = line
        period = _text(row[iperiod]) if iperiod >= 0 else ""
        if len(period) > 40:
            row_errors.append(RowError(line, "period", "Období je delší než 40 znaků."))
        note = _text(row[inote]) if inote >= 0 else ""
        if len(note) > 500:
            row_errors.append(RowError(line, "note", "Poznámka je delší než 500 znaků."))
        if row_errors:
            errors.extend(row_errors)
            continue
        good.append(
            {
                "customer_id": customer_id,
                "payer_name": payer_name,
                "amount": amount,
                "due_date": due,
                "variable_symbol": vs,
                "period": period or None,
                "note": note or None,
                "_line": line,
            }
        )
    if report.total_rows == 0:
        raise ImportFileError("Soubor neobsahuje žádné předpisy: je v něm jen záhlaví.")
    return good, seen_ids


_UPSERT_COLUMNS = ("customer_id", "payer_name", "amount", "due_date", "variable_symbol", "period", "note")
_COMPARED = ("payer_name", "amount", "due_date", "variable_symbol", "period", "note")
_UPDATED_ON_CONFLICT = ("payer_name", "amount", "due_date", "variable_symbol", "period", "note", "updated_at")


def _write_postgresql(session: Session, service: Service, rows: Sequence[dict[str, Any]], progress: Progress | None) -> int:
    """COPY each batch into a temporary table, then one set-based
    INSERT … SELECT … ON CONFLICT DO UPDATE per batch: the fastest bulk path there is."""
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE obligation_import_rows (customer_id varchar(50), payer_name varchar(200), "
        "amount integer, due_date date, variable_symbol varchar(10), period varchar(40), note varchar(500)) "
        "ON COMMIT DROP"
    )
    cols = ", ".join(_UPSERT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED_ON_CONFLICT)
    upsert = (
        f"INSERT INTO obligation (municipality_id, service_id, amount_paid, created_at, updated_at, {cols}) "
        f"SELECT %(municipality_id)s, %(service_id)s, 0, %(now)s, %(now)s, {cols} FROM obligation_import_rows "
        f"ON CONFLICT (service_id, customer_id) DO UPDATE SET {updates} "
        # An unchanged row is not rewritten: re-importing the same list writes nothing.
        f"WHERE ({', '.join('obligation.' + c for c in _COMPARED)}) IS DISTINCT FROM "
        f"({', '.join('EXCLUDED.' + c for c in _COMPARED)})"
    )
    params = {"municipality_id": service.municipality_id, "service_id": service.id, "now": utcnow()}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    written = 0
    try:
        done = 0
        for batch in _chunks(rows, BATCH_SIZE):
            with cursor.copy(f"COPY obligation_import_rows ({cols}) FROM STDIN") as copy:
                for r in batch:
                    copy.write_row([r[c] for c in _UPSERT_COLUMNS])
            cursor.execute(upsert, params)
            written += max(cursor.rowcount, 0)
            cursor.execute("TRUNCATE obligation_import_rows")
            done += len(batch)
            if progress:
                progress(done, len(rows))
    finally:
        cursor.close()
    return written


def _write_sqlite(session: Session, service: Service, rows: Sequence[dict[str, Any]], progress: Progress | None) -> int:
    """SQLite's own INSERT … ON CONFLICT DO UPDATE, executemany per batch."""
    from sqlalchemy.dialects.sqlite import insert

    table = Obligation.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.service_id, table.c.customer_id],
        set_={c: stmt.excluded[c] for c in _UPDATED_ON_CONFLICT},
        where=or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in _COMPARED)),
    )
    now = utcnow()
    common = {"municipality_id": service.municipality_id, "service_id": service.id, "amount_paid": 0, "created_at": now, "updated_at": now}
    conn = session.connection()
    done = written = 0
    for batch in _chunks(rows, BATCH_SIZE):
        result = conn.execute(stmt, [{**{c: r[c] for c in _UPSERT_COLUMNS}, **common} for r in batch])
        written += max(result.rowcount, 0)
        done += len(batch)
        if progress:
            progress(done, len(rows))
    return written


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_obligations(
    service: Service,
    data: bytes,
    filename: str,
    *,
    progress: Progress | None = None,
    allow_partial: bool = False,
    max_bytes: int | None = None,
) -> ImportReport:
    """Validate and import a payer list for ``service``; returns the report. Commits.

    Rows are upserted by customer ID (never duplicated). With any bad row nothing is
    written unless ``allow_partial``; then the good rows are imported."""
    started = time.perf_counter()
    report = ImportReport(filename=filename)
    limit = max_bytes if max_bytes is not None else _max_bytes()
    if len(data) > limit:
        report.file_errors.append(_too_big(len(data), limit))
        return report
    if not data.strip():
        report.file_errors.append("Soubor je prázdný.")
        return report
    try:
        good, _ = _validate(_rows(data, filename), report)
    except ImportFileError as exc:
        report.file_errors.append(str(exc))
        report.errors.clear()
        return report

    session = db_session()
    # One Core query (no ORM objects) for the rows of this service and every variable
    # symbol in the municipality.
    t = Obligation.__table__
    existing: dict[str, str | None] = {}
    holders: dict[str, tuple[int, str]] = {}
    for sid, cid, vs in session.connection().execute(
        select(t.c.service_id, t.c.customer_id, t.c.variable_symbol).where(
            t.c.municipality_id == service.municipality_id,
            or_(t.c.service_id == service.id, t.c.variable_symbol.is_not(None)),
        )
    ):
        if sid == service.id:
            existing[cid] = vs
        if vs is not None:
            holders[vs] = (sid, cid)
    in_file = {r["customer_id"]: r["variable_symbol"] for r in good}
    checked: list[dict[str, Any]] = []
    for r in good:
        vs = r["variable_symbol"]
        holder = holders.get(vs) if vs else None
        if holder and holder != (service.id, r["customer_id"]):
            sid, cid = holder
            # Freed by this file: the holder is in it with another symbol.
            if not (sid == service.id and cid in in_file and in_file[cid] != vs):
                report.errors.append(
                    RowError(r["_line"], "variable_symbol", f"Variabilní symbol {vs} už v obci používá jiný předpis.")
                )
                continue
        checked.append(r)
    report.errors.sort(key=lambda e: e.line)
    report.valid_rows = len(checked)
    if report.errors and not allow_partial:
        report.seconds = time.perf_counter() - started
        return report

    total = len(checked)
    write_started = time.perf_counter()
    if progress:
        progress(0, total)
    try:
        # A symbol that moves between two customers of this service would collide
        # mid-batch: free the old ones first.
        moving = [
            r["customer_id"]
            for r in checked
            if existing.get(r["customer_id"]) and existing[r["customer_id"]] != r["variable_symbol"]
        ]
        for batch in _chunks(moving, BATCH_SIZE):
            session.execute(
                update(Obligation)
                .where(Obligation.service_id == service.id, Obligation.customer_id.in_(batch))
                .values(variable_symbol=None),
                execution_options={"synchronize_session": False},
            )
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            written = _write_postgresql(session, service, checked, progress)
        elif dialect == "sqlite":
            written = _write_sqlite(session, service, checked, progress)
        else:  # pragma: no cover - the project supports these two
            raise RuntimeError(f"obligation import is not implemented for {dialect}")
        session.commit()
    except _INTEGRITY_ERRORS:
        # A variable symbol still held by a row this file could not move (in a partial
        # import): refuse the whole file rather than half of it.
        session.rollback()
        report.file_errors.append(
            "Soubor nebyl importován: variabilní symboly v něm se kříží s jinými předpisy obce. "
            "Opravte chybné řádky a nahrajte soubor znovu."
        )
        report.seconds = time.perf_counter() - started
        return report
    except Exception:
        session.rollback()
        raise
    existing_in_file = sum(1 for r in checked if r["customer_id"] in existing)
    report.inserted = total - existing_in_file
    # Rows written = inserted + changed (unchanged rows are skipped by the upsert).
    report.updated = max(written - report.inserted, 0)
    report.unchanged = existing_in_file - report.updated
    report.imported = True
    report.seconds = time.perf_counter() - started
    report.write_seconds = time.perf_counter() - write_started
    return report


# The PostgreSQL path runs on psycopg's own cursor (COPY), whose errors SQLAlchemy does not wrap.
try:
    from psycopg import IntegrityError as _PsycopgIntegrityError

    _INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrityError)
except ImportError:  # pragma: no cover - SQLite-only installs
    _INTEGRITY_ERRORS = (IntegrityError,)


def _too_big(size: int, limit: int) -> str:
    return f"Soubor je příliš velký ({size / 1024 / 1024:.1f} MB); největší povolená velikost je {limit / 1024 / 1024:.0f} MB."


def _max_bytes() -> int:
    try:
        return int(current_app.config.get("OBLIGATION_IMPORT_MAX_BYTES") or DEFAULT_MAX_IMPORT_BYTES)
    except RuntimeError:  # no app context (a script)
        return DEFAULT_MAX_IMPORT_BYTES


# -- imports as jobs -------------------------------------------------------------------
def create_import(
    service: Service, data: bytes, filename: str, *, allow_partial: bool = False, created_by: str | None = None
) -> ObligationImport:
    """Store an upload for the job; refuses oversized files before storing them."""
    record = ObligationImport(
        service_id=service.id,
        filename=filename[:255],
        content=b"" if len(data) > _max_bytes() else data,
        size=len(data),
        allow_partial=allow_partial,
        created_by=created_by,
    )
    db_session.add(record)
    db_session.commit()
    return record


def start_import(
    service: Service, data: bytes, filename: str, *, allow_partial: bool = False, created_by: str | None = None
) -> ObligationImport:
    """What the admin area calls: store the upload and run the import as a job."""
    from app import jobs

    record = create_import(service, data, filename, allow_partial=allow_partial, created_by=created_by)
    jobs.enqueue(jobs.import_obligations_job, record.id)
    return record


def run_import(import_id: int) -> ObligationImport | None:
    """The job's body: import a stored upload, reporting progress on the record."""
    record = db_session.get(ObligationImport, import_id)
    if record is None or record.status not in (ImportStatus.PENDING,):
        return record
    record.status = ImportStatus.RUNNING
    record.started_at = utcnow()
    db_session.commit()
    service = db_session.get(Service, record.service_id)
    assert service is not None
    try:
        if record.size > _max_bytes():
            report = ImportReport(filename=record.filename)
            report.file_errors.append(_too_big(record.size, _max_bytes()))
        else:
            report = import_obligations(
                service,
                record.content,
                record.filename,
                progress=_progress_writer(import_id),
                allow_partial=record.allow_partial,
            )
    except Exception as exc:
        db_session.rollback()
        failed = db_session.get(ObligationImport, import_id)
        assert failed is not None
        failed.status = ImportStatus.FAILED
        failed.report = {"summary": "Import selhal kvůli chybě serveru; nic nebylo importováno.", "error": type(exc).__name__}
        failed.finished_at = utcnow()
        db_session.commit()
        raise
    record = db_session.get(ObligationImport, import_id)
    assert record is not None
    record.status = ImportStatus.DONE if report.imported else ImportStatus.REJECTED
    record.total_rows = report.total_rows
    record.processed_rows = report.inserted + report.updated
    record.inserted = report.inserted
    record.updated = report.updated
    record.error_count = len(report.errors) + len(report.file_errors)
    record.report = report.to_dict(max_errors=MAX_STORED_ERRORS)
    record.finished_at = utcnow()
    db_session.commit()
    return record


def _progress_writer(import_id: int) -> Progress:
    """Progress goes through its own connection so the admin sees it while the import's
    transaction is still open. SQLite allows one writer: there only the end is recorded."""
    engine = db_session().get_bind()
    if engine.dialect.name == "sqlite":
        return lambda done, total: None

    def write(done: int, total: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(ObligationImport)
                .where(ObligationImport.id == import_id)
                .values(processed_rows=done, total_rows=total)
            )

    return write


# -- lookup ----------------------------------------------------------------------------
class LookupInputError(ValueError):
    """What the payer typed is not a customer ID or variable symbol: .code says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


LOOKUP_MAX_LENGTH = 100


def normalize_lookup(text: str | None) -> str:
    query = " ".join((text or "").split())
    if not query:
        raise LookupInputError("missing")
    if len(query) > LOOKUP_MAX_LENGTH:
        raise LookupInputError("too_long")
    if not CUSTOMER_ID_RE.match(query):
        raise LookupInputError("invalid")
    return query


def find_obligation(service: Service, text: str | None) -> Obligation | None:
    """The obligation of this service with this customer ID or variable symbol.

    Only this service is searched, so another municipality's IDs are simply unknown."""
    query = normalize_lookup(text)
    found = db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == query)
    )
    if found is None and query.isdigit() and len(query) <= 10:
        found = db_session.scalar(
            select(Obligation).where(Obligation.service_id == service.id, Obligation.variable_symbol == query)
        )
    return found


def mask_name(name: str) -> str:
    """'Jana Nováková' → 'J*** N***': the first letter of each word, never its length."""
    return " ".join(word[0] + "***" for word in name.split() if word)


def _serializer(service: Service) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"obligation-lookup-{service.id}")


def obligation_token(service: Service, obligation: Obligation) -> str:
    """A signed token for the pay form, so paying needs no second (unlimited) lookup."""
    return _serializer(service).dumps(obligation.customer_id)


def obligation_from_token(service: Service, token: str | None, max_age: int = 3600) -> Obligation | None:
    if not token or len(token) > 300:
        return None
    try:
        customer_id = _serializer(service).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == customer_id)
    )


def amount_editable(service: Service) -> bool:
    return service.amount_match != AmountMatch.EXACT


def check_obligation_amount(service: Service, obligation: Obligation, amount: int | None) -> int:
    """The amount to pay on an obligation under the service's amount_match rule."""
    remaining = obligation.remaining
    rule = service.amount_match
    if rule in (AmountMatch.EXACT, AmountMatch.AT_MOST) and remaining <= 0:
        raise AmountRuleError("already_paid")
    if rule == AmountMatch.EXACT:
        return remaining
    if amount is None:
        raise AmountRuleError("missing")
    if amount <= 0:
        raise AmountRuleError("not_positive")
    if rule == AmountMatch.AT_LEAST and amount < remaining:
        raise AmountRuleError("below_min", remaining)
    if rule == AmountMatch.AT_MOST and amount > remaining:
        raise AmountRuleError("above_max", remaining)
    return amount


def describe_obligation(obligation: Obligation, today: date | None = None) -> dict[str, Any]:
    """Everything the payer may see: nothing beyond the masked name."""
    return {
        "masked_name": mask_name(obligation.payer_name),
        "amount": obligation.amount,
        "remaining": obligation.remaining,
        "amount_paid": obligation.amount_paid,
        "due_date": obligation.due_date,
        "period": obligation.period,
        "state": obligation.state_on(today or date.today()),
        "remaining_text": format_czk(obligation.remaining),
    }


# -- payments credit obligations -------------------------------------------------------
@on_transition(PaymentState.PAID)
def _credit_obligation(payment: Payment, session: Session) -> None:
    if payment.obligation_id is None:
        return
    # One atomic UPDATE: concurrent payments of the same obligation both count.
    session.execute(
        update(Obligation)
        .where(Obligation.id == payment.obligation_id)
        .values(amount_paid=Obligation.amount_paid + (payment.amount - payment.amount_refunded), updated_at=utcnow())
    )


def _debit_refund(payment: Payment, session: Session) -> None:
    if payment.obligation_id is None:
        return
    # The listener runs before _apply_refunded stores the new total on the payment:
    # the new total is in the transition event just appended.
    data = session.scalar(
        select(PaymentEvent.data)
        .where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")
        .order_by(PaymentEvent.id.desc())
        .limit(1)
    ) or {}
    total = min(int(data.get("amount_refunded", payment.amount)), payment.amount)
    delta = total - payment.amount_refunded
    if delta <= 0:
        return
    session.execute(
        update(Obligation)
        .where(Obligation.id == payment.obligation_id)
        .values(
            amount_paid=case((Obligation.amount_paid > delta, Obligation.amount_paid - delta), else_=0),
            updated_at=utcnow(),
        )
    )


on_transition(PaymentState.PARTIALLY_REFUNDED)(_debit_refund)
on_transition(PaymentState.REFUNDED)(_debit_refund)
