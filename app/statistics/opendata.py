"""The statistics as open data: CSV and JSON with the same records, one per region and
Prague month. Aggregates only (region, month, counts, volumes): no names, e-mails,
variable symbols or single payments.

CSV follows what the Czech national open data catalogue (data.gov.cz, NKOD) asks of
tabular open data: RFC 4180 with a comma as the separator, UTF-8, a header row of
machine-readable column names, dates in ISO 8601 and a decimal point in numbers (a
semicolon is what a Czech spreadsheet writes, not what the catalogue's validator
expects)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.statistics.channels import BITCOIN, CARD, TRANSFER
from app.statistics.figures import Area, MonthRow, YearFigures

LICENCE_NAME = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENCE_LINK = f'<{LICENCE_URL}>; rel="license"'

# Column names: Czech, ASCII, stable (users' scripts read them).
CHANNEL_COLUMNS = {CARD: "karta", TRANSFER: "prevod", BITCOIN: "bitcoin"}
COLUMNS = ["mesic", "kraj_kod", "kraj", "pripojene_obce", "aktivni_sluzby"] + [
    f"platby_{name}_{what}" for name in (*CHANNEL_COLUMNS.values(), "celkem") for what in ("pocet", "objem_kc")
]


def _czk(haler: int) -> str:
    sign = "-" if haler < 0 else ""
    return f"{sign}{abs(haler) // 100}.{abs(haler) % 100:02d}"


def record(row: MonthRow) -> dict[str, Any]:
    """One record: volumes in CZK as decimal strings with two places (exact)."""
    out: dict[str, Any] = {
        "mesic": f"{row.month.year:04d}-{row.month.month:02d}",
        "kraj_kod": row.region.nuts_code or row.region.slug or "",
        "kraj": row.region.name,
        "pripojene_obce": row.joined,
        "aktivni_sluzby": row.active_services,
    }
    for channel, name in CHANNEL_COLUMNS.items():
        f = row.channels[channel]
        out[f"platby_{name}_pocet"], out[f"platby_{name}_objem_kc"] = f.count, _czk(f.volume)
    total = row.total
    out["platby_celkem_pocet"], out["platby_celkem_objem_kc"] = total.count, _czk(total.volume)
    return out


def records(figures: Sequence[YearFigures]) -> list[dict[str, Any]]:
    return [record(r) for fig in figures for r in fig.rows]


def to_csv(figures: Sequence[YearFigures]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records(figures))
    return buffer.getvalue()


def to_json(figures: Sequence[YearFigures], area: Area, *, title: str, page_url: str, generated: datetime) -> str:
    """The document: what it is, its area, licence and rules, and the records (the CSV's
    rows, with numbers as numbers: volumes in CZK with two decimal places)."""
    rows = []
    for r in records(figures):
        rows.append({k: (float(v) if k.endswith("_kc") else v) for k, v in r.items()})
    doc = {
        "nazev": title,
        "uzemi": {"kod": area.nuts_code or area.slug, "nazev": area.name},
        "licence": {"nazev": LICENCE_NAME, "url": LICENCE_URL},
        "zdroj": page_url,
        "vytvoreno": generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "roky": [fig.year for fig in figures],
        "pravidla": (
            "Platba se počítá v kalendářním měsíci (čas Europe/Prague), kdy byla zaplacena; "
            "vrácené platby se neodečítají. Připojené obce a aktivní služby ke konci měsíce. "
            "Kanál podle platební brány: karta, bankovní převod, bitcoin. Objemy v Kč."
        ),
        "sloupce": list(COLUMNS),
        "zaznamy": rows,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


CHANNEL_WORDS = {"karta": "platební kartou", "prevod": "bankovním převodem", "bitcoin": "bitcoinem", "celkem": "celkem"}


def _describe(column: str) -> tuple[str, str]:
    """(description, CSVW datatype) of a column."""
    fixed = {
        "mesic": ("Kalendářní měsíc (RRRR-MM) podle času Europe/Prague", "gYearMonth"),
        "kraj_kod": ("Kód kraje podle CZ-NUTS 3 (CZ051)", "string"),
        "kraj": ("Název kraje", "string"),
        "pripojene_obce": ("Počet obcí připojených k portálu ke konci měsíce", "integer"),
        "aktivni_sluzby": ("Počet aktivních služeb připojených obcí ke konci měsíce", "integer"),
    }
    if column in fixed:
        return fixed[column]
    _, channel, *what = column.split("_")
    if what == ["pocet"]:
        return f"Počet plateb zaplacených v měsíci – {CHANNEL_WORDS[channel]}", "integer"
    return f"Objem plateb zaplacených v měsíci v Kč – {CHANNEL_WORDS[channel]}", "decimal"


def csvw_metadata(csv_url: str, title: str) -> str:
    """The CSV's schema in CSV on the Web (W3C), as the national catalogue recommends
    beside a CSV: columns, their meaning and types, the key, the licence."""
    columns = []
    for name in COLUMNS:
        description, datatype = _describe(name)
        columns.append(
            {
                "name": name,
                "titles": name,
                "dc:description": description,
                "datatype": datatype,
                "required": name != "kraj_kod",
            }
        )
    doc = {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "cs"}],
        "url": csv_url,
        "dc:title": title,
        "dc:license": {"@id": LICENCE_URL},
        "dialect": {"delimiter": ",", "encoding": "utf-8", "header": True},
        "tableSchema": {"columns": columns, "primaryKey": ["mesic", "kraj_kod"]},
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)
