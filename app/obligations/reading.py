"""Reading a payer list: decoding (UTF-8 or Windows-1250, with or without BOM), CSV
(``;``, ``,`` or tab) and XLSX rows, and the header's column names with their synonyms."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from app.i18n import N_, Text
from app.obligations.values import cell_text

DEFAULT_MAX_IMPORT_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 10_000
MAX_STORED_ERRORS = 5000

Progress = Callable[[int, int], None]

# -- columns ---------------------------------------------------------------------------
# Header synonyms, compared without case, diacritics and punctuation.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "zakaznicke cislo",
        "cislo zakaznika",
        "cislo platce",
        "id platce",
        "id zakaznika",
        "kod platce",
        "osobni cislo",
        "evidencni cislo",
        "zakaznik",
        "customer id",
    ),
    "payer_name": (
        "jmeno",
        "platce",
        "jmeno platce",
        "jmeno a prijmeni",
        "prijmeni a jmeno",
        "nazev platce",
        "nazev",
        "poplatnik",
        "name",
    ),
    "amount": ("castka", "castka kc", "castka v kc", "k uhrade", "castka k uhrade", "predpis", "amount"),
    "due_date": ("splatnost", "datum splatnosti", "splatno", "splatnost do", "due date"),
    "variable_symbol": ("variabilni symbol", "vs", "var symbol", "variabilni", "variable symbol"),
    "period": ("obdobi", "za obdobi", "rok", "period"),
    "note": ("poznamka", "poznamky", "popis", "note"),
    "birth_number": ("rodne cislo", "rc", "rodne c", "birth number"),
    "email": ("e mail", "email", "mail", "e mail platce", "email platce"),
    "household": ("domacnost", "cislo domacnosti", "kod domacnosti", "household"),
    "specific_symbol": ("specificky symbol", "ss", "spec symbol", "specificky", "specific symbol"),
}
REQUIRED_COLUMNS = ("customer_id", "payer_name", "amount")
# Translated where shown: gettext(COLUMN_LABELS[key]).
COLUMN_LABELS = {
    "customer_id": N_("Zákaznické číslo"),
    "payer_name": N_("Jméno"),
    "amount": N_("Částka"),
    "due_date": N_("Splatnost"),
    "variable_symbol": N_("Variabilní symbol"),
    "period": N_("Období"),
    "note": N_("Poznámka"),
    "birth_number": N_("Rodné číslo"),
    "email": N_("E-mail"),
    "household": N_("Domácnost"),
    "specific_symbol": N_("Specifický symbol"),
}


def _fold(text: str) -> str:
    """'Variabilní  symbol:' → 'variabilni symbol'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


_HEADER_INDEX = {_fold(s): key for key, synonyms in COLUMN_SYNONYMS.items() for s in synonyms}


class ImportFileError(Exception):
    """The file as a whole cannot be read; ``texts`` say why (translated when shown)."""

    def __init__(self, *texts: Text) -> None:
        super().__init__(*(t.msgid for t in texts))
        self.texts = list(texts)

    def __str__(self) -> str:
        return " ".join(str(t) for t in self.texts)


# -- reading the file ------------------------------------------------------------------
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ImportFileError(
            Text(
                N_(
                    "Soubor je v nepodporovaném kódování (UTF-16 nebo binární data). Uložte jej jako CSV v kódování UTF-8 nebo Windows-1250."
                )
            )
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                Text(
                    N_(
                        "Soubor se hlásí jako UTF-8, ale obsahuje neplatné znaky (bajt %(byte)s). Uložte jej znovu v kódování UTF-8."
                    ),
                    byte=exc.start + 3,
                )
            ) from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1250")
            except UnicodeDecodeError:
                raise ImportFileError(
                    Text(
                        N_("Kódování souboru nelze rozpoznat. Uložte jej jako CSV v kódování UTF-8 nebo Windows-1250.")
                    )
                ) from None
    bad = _CONTROL_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ImportFileError(
            Text(
                N_(
                    "Soubor obsahuje neplatné řídicí znaky (řádek %(line)s); nejde o textový soubor CSV v kódování UTF-8 nebo Windows-1250."
                ),
                line=line,
            )
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
            raise ImportFileError(
                Text(N_("Řádek %(line)s: soubor CSV je poškozený (%(error)s)."), line=start, error=str(exc))
            ) from None
        yield start, row


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(
            Text(
                N_("Soubor XLSX nelze přečíst (%(error)s). Uložte jej znovu v Excelu jako .xlsx nebo jako CSV."),
                error=type(exc).__name__,
            )
        ) from None
    try:
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        wb.close()


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            Text(N_("Starý formát Excelu (.xls) není podporován. Uložte soubor jako .xlsx nebo CSV."))
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError(Text(N_("Soubor má příponu .xlsx, ale není platný soubor Excelu.")))
    return _csv_rows(data)


# -- import ----------------------------------------------------------------------------
def map_header(line: int, header: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header):
        name = cell_text(cell)
        if not name:
            continue
        key = _HEADER_INDEX.get(_fold(name))
        if key is None:
            unknown.append(name)
        elif key in columns:
            raise ImportFileError(
                Text(N_("Řádek %(line)s: sloupec „%(name)s“ je v záhlaví dvakrát."), line=line, name=name)
            )
        else:
            columns[key] = index
    problems = []
    missing = [Text(N_("„%(name)s“"), name=Text(COLUMN_LABELS[k])) for k in REQUIRED_COLUMNS if k not in columns]
    if missing:
        problems.append(Text(N_("Chybí povinný sloupec: %(columns)s."), columns=missing))
    if unknown:
        problems.append(
            Text(
                N_("Neznámý sloupec: %(columns)s (povolené sloupce: %(allowed)s)."),
                columns=[Text(N_("„%(name)s“"), name=u[:60]) for u in unknown],
                allowed=[Text(label) for label in COLUMN_LABELS.values()],
            )
        )
    if problems:
        raise ImportFileError(
            *(Text(N_("Řádek %(line)s (záhlaví): %(problems)s"), line=line, problems=p) for p in problems)
        )
    return columns
