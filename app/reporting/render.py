"""The reports as files: HTML (with inline SVG charts), PDF (WeasyPrint), XLSX (openpyxl)
and CSV (semicolon-separated with decimal commas and a BOM, as Czech Excel opens it).

Amounts stay integer haléře until the last step: XLSX gets exact Decimals, CSV and HTML
get text."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import has_request_context, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from app.money import format_czk
from app.reporting.charts import column_chart, hbar_chart
from app.reporting.monthly import PERIODS, Line, MonthlyReport, MunicipalityRow, month_name
from app.reporting.yearly import YearlyIndicators
from app.timeutil import czech_date, to_prague

CSS_FILE = Path(__file__).resolve().parent.parent / "static" / "reporting.css"
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


def _render(template: str, **context: Any) -> str:
    """render_template that also works outside a request (CLI, jobs): files are Czech."""
    if has_request_context():
        return render_template(template, **context)
    from flask_babel import force_locale

    with force_locale("cs"):
        return render_template(template, **context)


def _helpers() -> dict[str, Any]:
    return {"num": num, "cz_date": czech_date, "periods": PERIODS}


# -- monthly ---------------------------------------------------------------------------
def monthly_title(r: MonthlyReport) -> str:
    whose = f" – {r.region.name}" if r.region else ""
    return f"Měsíční zpráva o Platebním portálu – {r.label}{whose}"


def monthly_charts(r: MonthlyReport) -> dict[str, Markup]:
    periods = [r.period_labels[p] for p in PERIODS]
    top = [ln for ln in r.by_municipality if ln.current.volume][:10]
    count_title = _("Počet plateb: %(p)s, předchozí měsíc a stejný měsíc před rokem", p=r.label)
    volume_title = _("Objem plateb v Kč: %(p)s, předchozí měsíc a stejný měsíc před rokem", p=r.label)
    top_title = _("Obce s největším objemem plateb v Kč – %(p)s", p=r.label)
    return {
        "count": hbar_chart(
            list(zip(periods, [r.total.figures(p).count for p in PERIODS], strict=True)),
            title=count_title,
            caption=count_title,
            colors=["#2362a2", "#8fb3da", "#a6a6a6"],
        ),
        "volume": hbar_chart(
            list(zip(periods, [r.total.figures(p).volume for p in PERIODS], strict=True)),
            title=volume_title,
            caption=volume_title,
            value_text=format_czk,
            colors=["#2362a2", "#8fb3da", "#a6a6a6"],
        ),
        "municipalities": hbar_chart(
            [(ln.label, ln.current.volume) for ln in top],
            title=top_title,
            caption=top_title,
            value_text=format_czk,
        )
        if top
        else Markup(""),
    }


def monthly_body(r: MonthlyReport) -> str:
    """The report's content, for the operator page (inside the portal's layout)."""
    return _render(
        "reporting/_monthly_body.html",
        r=r,
        charts=monthly_charts(r),
        generated=generated_text(r.generated_at),
        **_helpers(),
    )


def monthly_html(r: MonthlyReport) -> str:
    """A standalone document (file download, e-mail attachment, PDF source)."""
    return _render(
        "reporting/monthly_document.html",
        title=monthly_title(r),
        region=r.region,
        body="reporting/_monthly_body.html",
        css=Markup(CSS_FILE.read_text(encoding="utf-8")),
        r=r,
        charts=monthly_charts(r),
        generated=generated_text(r.generated_at),
        **_helpers(),
    )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _compare_rows(lines: list[Line], with_detail: bool) -> list[list[Any]]:
    rows = []
    for ln in lines:
        row: list[Any] = [ln.label] + ([ln.detail] if with_detail else [])
        for p in PERIODS:
            f = ln.figures(p)
            row += [f.count, kc(f.volume)]
        rows.append(row)
    return rows


def monthly_xlsx(r: MonthlyReport) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Souhrn"
    ws.append([monthly_title(r)])
    ws.append(["Stav k", r.as_of])
    ws.append(["Termín odevzdání", r.due_date])
    ws.append(["Vytvořeno", generated_text(r.generated_at)])
    ws.append([])
    labels = [r.period_labels[p] for p in PERIODS]
    ws.append(["Ukazatel", *labels])
    header_row = ws.max_row
    ws.append(["Připojené obce (aktivní)", *[r.snapshots[p].joined for p in PERIODS]])
    ws.append(["Obce v jednání", *[r.snapshots[p].in_negotiation for p in PERIODS]])
    ws.append(["Nově připojené obce v měsíci", *[r.newly_joined_counts[p] for p in PERIODS]])
    ws.append(["Aktivní služby", *[r.snapshots[p].active_services for p in PERIODS]])
    ws.append(["Počet plateb", *[r.total.figures(p).count for p in PERIODS]])
    ws.append(["Objem plateb (Kč)", *[kc(r.total.figures(p).volume) for p in PERIODS]])
    ws.append(["Vrácené platby – počet", *[r.refunds.figures(p).count for p in PERIODS]])
    ws.append(["Vrácené platby – částka (Kč)", *[kc(r.refunds.figures(p).volume) for p in PERIODS]])
    for cell in ws[2][1:2] + ws[3][1:2]:
        cell.number_format = "d. m. yyyy"
    for row in (ws.max_row - 2, ws.max_row):
        for cell in ws[row][1:]:
            cell.number_format = '#,##0.00 "Kč"'
    _bold(ws, 1)
    _bold(ws, header_row)

    def compare_sheet(title: str, lines: list[Line], first: str, detail: str | None, total: Line | None) -> None:
        sheet = wb.create_sheet(title)
        head = [first] + ([detail] if detail else [])
        sheet.append(head + [f"{label} – {what}" for label in labels for what in ("počet", "objem (Kč)")])
        _bold(sheet, 1)
        for row in _compare_rows(lines + ([total] if total else []), detail is not None):
            sheet.append(row)
        _money_columns(sheet, start=len(head) + 2, step=2)
        if total:
            _bold(sheet, sheet.max_row)
        _widths(sheet, [40] + ([30] if detail else []))

    compare_sheet("Kanály", r.by_channel_kind + r.by_channel, "Kanál", None, None)
    compare_sheet("Obce", r.by_municipality, "Obec", "Okres", r.total)
    compare_sheet("Služby", r.by_service, "Služba", "Obec", r.total)
    accounts = wb.create_sheet("Účty bran")
    accounts.append(
        ["Obec", "Účet brány", "Kanál"] + [f"{label} – {what}" for label in labels for what in ("počet", "objem (Kč)")]
    )
    _bold(accounts, 1)
    for group in r.by_account:
        for ln in group.accounts:
            accounts.append([group.municipality.label, *_compare_rows([ln], True)[0]])
        accounts.append([group.municipality.label, *_compare_rows([group.total], True)[0]])
        _bold(accounts, accounts.max_row)
    accounts.append(["Celkem", "", "", *_compare_rows([r.total], False)[0][1:]])
    _bold(accounts, accounts.max_row)
    _money_columns(accounts, start=5, step=2)
    _widths(accounts, [30, 34, 24])
    refunds = wb.create_sheet("Vrácené platby")
    refunds.append(["Obec", "Počet", "Částka (Kč)"])
    _bold(refunds, 1)
    for ln in r.refunds_by_municipality + [Line("total", "Celkem", current=r.refunds.current)]:
        refunds.append([ln.label, ln.current.count, kc(ln.current.volume)])
    _money_columns(refunds, start=3, step=1)
    _widths(refunds, [40])

    def municipality_sheet(title: str, rows: list[MunicipalityRow], state: bool) -> None:
        sheet = wb.create_sheet(title)
        sheet.append(
            ["Obec", "IČO", "Okres", "Stav", "Ve stavu od", "Připojena od"]
            if state
            else ["Obec", "IČO", "Okres", "Připojena od"]
        )
        _bold(sheet, 1)
        for m in rows:
            sheet.append(
                [m.name, m.ico, m.district, m.state_label, m.since, m.joined_on]
                if state
                else [m.name, m.ico, m.district, m.joined_on]
            )
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = "d. m. yyyy"
        _widths(sheet, [40, 12, 24, 30, 14, 14])

    municipality_sheet("Připojené obce", r.joined, False)
    municipality_sheet("Obce v jednání", r.in_negotiation, True)
    municipality_sheet("Nově připojené", r.newly_joined, True)
    _widths(ws, [34, 16, 16, 16])
    return _save(wb)


def monthly_csv(r: MonthlyReport) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    labels = [r.period_labels[p] for p in PERIODS]
    w.writerow(
        ["oddíl", "položka", "upřesnění"] + [f"{label} – {what}" for label in labels for what in ("počet", "objem Kč")]
    )

    def counts(section: str, label: str, values: list[int]) -> None:
        row: list[str] = [section, label, ""]
        for v in values:
            row += [str(v), ""]
        w.writerow(row)

    def line(section: str, ln: Line) -> None:
        row = [section, ln.label, ln.detail]
        for p in PERIODS:
            f = ln.figures(p)
            row += [str(f.count), csv_kc(f.volume)]
        w.writerow(row)

    w.writerow(["zpráva", monthly_title(r), f"stav k {czech_date(r.as_of)}; termín {czech_date(r.due_date)}"])
    counts("souhrn", "Připojené obce (aktivní)", [r.snapshots[p].joined for p in PERIODS])
    counts("souhrn", "Obce v jednání", [r.snapshots[p].in_negotiation for p in PERIODS])
    counts("souhrn", "Nově připojené obce v měsíci", [r.newly_joined_counts[p] for p in PERIODS])
    counts("souhrn", "Aktivní služby", [r.snapshots[p].active_services for p in PERIODS])
    line("platby", r.total)
    line("vrácené platby", r.refunds)
    for ln in r.by_channel_kind:
        line("kanál", ln)
    for ln in r.by_channel:
        line("brána", ln)
    for ln in r.by_municipality:
        line("obec", ln)
    for ln in r.by_service:
        line("služba", ln)
    for group in r.by_account:
        for ln in group.accounts:
            line(
                "účet brány",
                Line(
                    ln.key, ln.label, f"{group.municipality.label}; {ln.detail}", ln.current, ln.previous, ln.year_ago
                ),
            )
    for ln in r.refunds_by_municipality:
        w.writerow(["vrácení podle obce", ln.label, ln.detail, str(ln.current.count), csv_kc(ln.current.volume)])
    for section, rows in (
        ("připojená obec", r.joined),
        ("obec v jednání", r.in_negotiation),
        ("nově připojená obec", r.newly_joined),
    ):
        for m in rows:
            since = f"; od {czech_date(m.since)}" if m.since and section != "připojená obec" else ""
            joined = f"; připojena {czech_date(m.joined_on)}" if m.joined_on else ""
            w.writerow([section, m.name, f"IČO {m.ico}; okres {m.district}; {m.state_label}{since}{joined}"])
    return out.getvalue().encode("utf-8-sig")


def render_monthly(r: MonthlyReport, fmt: str) -> Rendered:
    name = f"mesicni-zprava-{r.period}.{fmt}"
    if fmt == "html":
        content = monthly_html(r).encode("utf-8")
    elif fmt == "pdf":
        content = html_to_pdf(monthly_html(r))
    elif fmt == "xlsx":
        content = monthly_xlsx(r)
    elif fmt == "csv":
        content = monthly_csv(r)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return Rendered(content, FORMATS[fmt], name)


# -- yearly ----------------------------------------------------------------------------
def yearly_title(y: YearlyIndicators) -> str:
    whose = f" – {y.region.name}" if y.region else ""
    return f"Ukazatele Platebního portálu za rok {y.year}{whose}"


def yearly_charts(y: YearlyIndicators) -> dict[str, Markup]:
    # Babel's stand-alone abbreviations: every month distinct (červen "čvn", červenec "čvc").
    short = [month_name(m.month, "abbreviated") for m in y.months]
    count_title = _("Počet plateb po měsících roku %(y)s", y=y.year)
    volume_title = _("Objem plateb po měsících roku %(y)s v tisících Kč (tis. Kč)", y=y.year)
    return {
        "count": column_chart(
            list(zip(short, [m.total.count for m in y.months], strict=True)), title=count_title, caption=count_title
        ),
        "volume": column_chart(
            list(zip(short, [m.total.volume for m in y.months], strict=True)),
            title=volume_title,
            caption=volume_title,
            value_text=lambda v: num(round(v / 100_000)),
        ),
    }


def yearly_body(y: YearlyIndicators) -> str:
    return _render(
        "reporting/_yearly_body.html",
        y=y,
        charts=yearly_charts(y),
        generated=generated_text(y.generated_at),
        **_helpers(),
    )


def yearly_html(y: YearlyIndicators) -> str:
    return _render(
        "reporting/monthly_document.html",
        title=yearly_title(y),
        region=y.region,
        body="reporting/_yearly_body.html",
        css=Markup(CSS_FILE.read_text(encoding="utf-8")),
        y=y,
        charts=yearly_charts(y),
        generated=generated_text(y.generated_at),
        **_helpers(),
    )


STATE_ROWS = (
    ("Počet aktivních uživatelů (obcí)", "joined"),
    ("Počet aktivních služeb", "active_services"),
    ("Počet obcí před podpisem smlouvy – v přípravě", "in_preparation"),
    ("Počet obcí se zájmem", "interested"),
    ("Počet obcí se smlouvou před spuštěním", "contract_signed"),
)


def yearly_xlsx(y: YearlyIndicators) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Stav"
    points = [y.previous_year_end, y.mid_year, y.year_end]
    ws.append([yearly_title(y)])
    ws.append(["Ukazatel", *[f"Stav k {czech_date(p.day)}" for p in points]])
    for label, attr in STATE_ROWS:
        ws.append([label, *[getattr(p, attr) for p in points]])
    _bold(ws, 1)
    _bold(ws, 2)
    _widths(ws, [48, 18, 18, 18])
    tx = wb.create_sheet("Transakce")
    tx.append(
        [
            "Měsíc",
            "Počet plateb",
            "Finanční objem transakcí (Kč)",
            "z toho kartou (bránou) – počet",
            "kartou – objem (Kč)",
            "z toho převodem – počet",
            "převodem – objem (Kč)",
            "z toho bitcoinem – počet",
            "bitcoinem – objem (Kč)",
        ]
    )
    _bold(tx, 1)
    for months, total, label in (
        (y.first_half, y.first_half_total, "Celkem 1. pololetí"),
        (y.second_half, y.second_half_total, "Celkem 2. pololetí"),
    ):
        for m in months:
            tx.append(
                [
                    m.label,
                    m.total.count,
                    kc(m.total.volume),
                    m.card.count,
                    kc(m.card.volume),
                    m.transfer.count,
                    kc(m.transfer.volume),
                    m.bitcoin.count,
                    kc(m.bitcoin.volume),
                ]
            )
        tx.append([label, total.count, kc(total.volume)])
        _bold(tx, tx.max_row)
    tx.append([f"Celkem {y.year}", y.year_total.count, kc(y.year_total.volume)])
    _bold(tx, tx.max_row)
    for col in (3, 5, 7, 9):
        for row in tx.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = '#,##0.00 "Kč"'
    _widths(tx, [24, 14, 28, 22, 20, 22, 22, 22, 22])
    return _save(wb)


def yearly_csv(y: YearlyIndicators) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["oddíl", "položka", "počet", "objem Kč"])
    for p in (y.previous_year_end, y.mid_year, y.year_end):
        for label, attr in STATE_ROWS:
            w.writerow([f"stav k {czech_date(p.day)}", label, str(getattr(p, attr)), ""])
    for months, total, label in (
        (y.first_half, y.first_half_total, "Celkem 1. pololetí"),
        (y.second_half, y.second_half_total, "Celkem 2. pololetí"),
    ):
        for m in months:
            w.writerow(["transakce", m.label, str(m.total.count), csv_kc(m.total.volume)])
        w.writerow(["transakce", label, str(total.count), csv_kc(total.volume)])
    w.writerow(["transakce", f"Celkem {y.year}", str(y.year_total.count), csv_kc(y.year_total.volume)])
    return out.getvalue().encode("utf-8-sig")


def render_yearly(y: YearlyIndicators, fmt: str) -> Rendered:
    name = f"rocni-ukazatele-{y.year}.{fmt}"
    if fmt == "html":
        content = yearly_html(y).encode("utf-8")
    elif fmt == "pdf":
        content = html_to_pdf(yearly_html(y))
    elif fmt == "xlsx":
        content = yearly_xlsx(y)
    elif fmt == "csv":
        content = yearly_csv(y)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return Rendered(content, FORMATS[fmt], name)


# -- openpyxl helpers ------------------------------------------------------------------
def _bold(ws: Any, row: int) -> None:
    from openpyxl.styles import Font

    for cell in ws[row]:
        cell.font = Font(bold=True)


def _money_columns(ws: Any, *, start: int, step: int) -> None:
    for row in ws.iter_rows(min_row=2):
        for cell in row[start - 1 :: step]:
            if isinstance(cell.value, Decimal):
                cell.number_format = '#,##0.00 "Kč"'


def _widths(ws: Any, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _save(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
