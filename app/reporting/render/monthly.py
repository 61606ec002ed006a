"""The monthly report as files: HTML (inline SVG charts), PDF, XLSX and CSV
(semicolon-separated with decimal commas and a BOM, as Czech Excel opens it)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from app.money import format_czk
from app.reporting.charts import hbar_chart
from app.reporting.monthly import PERIODS, Line, MonthlyReport, MunicipalityRow
from app.reporting.render.common import (
    CSS_FILE,
    FORMATS,
    Rendered,
    bold,
    csv_kc,
    generated_text,
    html_to_pdf,
    kc,
    money_columns,
    render_page,
    save_workbook,
    template_helpers,
    widths,
)
from app.timeutil import czech_date


def monthly_title(r: MonthlyReport) -> str:
    return f"Měsíční zpráva o Platebním portálu – {r.label}"


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
    return render_page(
        "reporting/_monthly_body.html", r=r, charts=monthly_charts(r), generated=generated_text(r.generated_at),
        **template_helpers(),
    )


def monthly_html(r: MonthlyReport) -> str:
    """A standalone document (file download, e-mail attachment, PDF source)."""
    return render_page(
        "reporting/monthly_document.html",
        title=monthly_title(r),
        body="reporting/_monthly_body.html",
        css=Markup(CSS_FILE.read_text(encoding="utf-8")),
        r=r,
        charts=monthly_charts(r),
        generated=generated_text(r.generated_at),
        **template_helpers(),
    )


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
    bold(ws, 1)
    bold(ws, header_row)

    def compare_sheet(title: str, lines: list[Line], first: str, detail: str | None, total: Line | None) -> None:
        sheet = wb.create_sheet(title)
        head = [first] + ([detail] if detail else [])
        sheet.append(head + [f"{label} – {what}" for label in labels for what in ("počet", "objem (Kč)")])
        bold(sheet, 1)
        for row in _compare_rows(lines + ([total] if total else []), detail is not None):
            sheet.append(row)
        money_columns(sheet, start=len(head) + 2, step=2)
        if total:
            bold(sheet, sheet.max_row)
        widths(sheet, [40] + ([30] if detail else []))

    compare_sheet("Kanály", r.by_channel_kind + r.by_channel, "Kanál", None, None)
    compare_sheet("Obce", r.by_municipality, "Obec", "Okres", r.total)
    compare_sheet("Služby", r.by_service, "Služba", "Obec", r.total)
    refunds = wb.create_sheet("Vrácené platby")
    refunds.append(["Obec", "Počet", "Částka (Kč)"])
    bold(refunds, 1)
    for ln in r.refunds_by_municipality + [Line("total", "Celkem", current=r.refunds.current)]:
        refunds.append([ln.label, ln.current.count, kc(ln.current.volume)])
    money_columns(refunds, start=3, step=1)
    widths(refunds, [40])

    def municipality_sheet(title: str, rows: list[MunicipalityRow], state: bool) -> None:
        sheet = wb.create_sheet(title)
        sheet.append(["Obec", "IČO", "Okres", "Stav", "Ve stavu od", "Připojena od"] if state
                     else ["Obec", "IČO", "Okres", "Připojena od"])
        bold(sheet, 1)
        for m in rows:
            sheet.append([m.name, m.ico, m.district, m.state_label, m.since, m.joined_on] if state
                         else [m.name, m.ico, m.district, m.joined_on])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = "d. m. yyyy"
        widths(sheet, [40, 12, 24, 30, 14, 14])

    municipality_sheet("Připojené obce", r.joined, False)
    municipality_sheet("Obce v jednání", r.in_negotiation, True)
    municipality_sheet("Nově připojené", r.newly_joined, True)
    widths(ws, [34, 16, 16, 16])
    return save_workbook(wb)


def monthly_csv(r: MonthlyReport) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    labels = [r.period_labels[p] for p in PERIODS]
    w.writerow(["oddíl", "položka", "upřesnění"] + [f"{label} – {what}" for label in labels for what in ("počet", "objem Kč")])

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
    for ln in r.refunds_by_municipality:
        w.writerow(["vrácení podle obce", ln.label, ln.detail, str(ln.current.count), csv_kc(ln.current.volume)])
    for section, rows in (("připojená obec", r.joined), ("obec v jednání", r.in_negotiation),
                          ("nově připojená obec", r.newly_joined)):
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
