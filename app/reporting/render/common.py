"""What the report documents share: the formats, the number formats (integer haléře
until the last step: XLSX gets exact Decimals, CSV and HTML get text), rendering a
template outside a request, the PDF, and openpyxl helpers."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import has_request_context, render_template

from app.reporting.monthly import PERIODS
from app.timeutil import czech_date, to_prague

CSS_FILE = Path(__file__).resolve().parent.parent.parent / "static" / "reporting.css"
FORMATS: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    mimetype: str
    filename: str


def num(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def kc(amount: int) -> Decimal:
    """Haléře as exact crowns for spreadsheets."""
    return Decimal(amount) / 100


def csv_kc(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    crowns, hal = divmod(abs(amount), 100)
    return f"{sign}{crowns},{hal:02d}"


def generated_text(moment: datetime) -> str:
    local = to_prague(moment)
    return f"{czech_date(local.date())} {local:%H:%M}"


def render_page(template: str, **context: Any) -> str:
    """render_template that also works outside a request (CLI, jobs): files are Czech."""
    if has_request_context():
        return render_template(template, **context)
    from flask_babel import force_locale

    with force_locale("cs"):
        return render_template(template, **context)


def template_helpers() -> dict[str, Any]:
    return {"num": num, "cz_date": czech_date, "periods": PERIODS}


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


# -- openpyxl helpers ------------------------------------------------------------------
def bold(ws: Any, row: int) -> None:
    from openpyxl.styles import Font

    for cell in ws[row]:
        cell.font = Font(bold=True)


def money_columns(ws: Any, *, start: int, step: int) -> None:
    for row in ws.iter_rows(min_row=2):
        for cell in row[start - 1 :: step]:
            if isinstance(cell.value, Decimal):
                cell.number_format = '#,##0.00 "Kč"'


def widths(ws: Any, sizes: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(sizes, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def save_workbook(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
