"""The yearly indicators as files: HTML (inline SVG charts), PDF, XLSX and CSV."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from markupsafe import Markup

from app.reporting.charts import column_chart
from app.reporting.monthly import month_name
from app.reporting.render.common import (
    CSS_FILE,
    FORMATS,
    Rendered,
    bold,
    csv_kc,
    generated_text,
    html_to_pdf,
    kc,
    num,
    render_page,
    save_workbook,
    template_helpers,
    widths,
)
from app.reporting.yearly import YearlyIndicators
from app.timeutil import czech_date


def yearly_title(y: YearlyIndicators) -> str:
    return f"Ukazatele Platebního portálu za rok {y.year}"


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
    return render_page(
        "reporting/_yearly_body.html", y=y, charts=yearly_charts(y), generated=generated_text(y.generated_at),
        **template_helpers(),
    )


def yearly_html(y: YearlyIndicators) -> str:
    return render_page(
        "reporting/monthly_document.html",
        title=yearly_title(y),
        body="reporting/_yearly_body.html",
        css=Markup(CSS_FILE.read_text(encoding="utf-8")),
        y=y,
        charts=yearly_charts(y),
        generated=generated_text(y.generated_at),
        **template_helpers(),
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
    bold(ws, 1)
    bold(ws, 2)
    widths(ws, [48, 18, 18, 18])
    tx = wb.create_sheet("Transakce")
    tx.append(["Měsíc", "Počet plateb", "Finanční objem transakcí (Kč)", "z toho bránou – počet",
               "bránou – objem (Kč)", "z toho převodem – počet", "převodem – objem (Kč)"])
    bold(tx, 1)
    for months, total, label in ((y.first_half, y.first_half_total, "Celkem 1. pololetí"),
                                 (y.second_half, y.second_half_total, "Celkem 2. pololetí")):
        for m in months:
            tx.append([m.label, m.total.count, kc(m.total.volume), m.card.count, kc(m.card.volume),
                       m.transfer.count, kc(m.transfer.volume)])
        tx.append([label, total.count, kc(total.volume)])
        bold(tx, tx.max_row)
    tx.append([f"Celkem {y.year}", y.year_total.count, kc(y.year_total.volume)])
    bold(tx, tx.max_row)
    for col in (3, 5, 7):
        for row in tx.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = '#,##0.00 "Kč"'
    widths(tx, [24, 14, 28, 20, 20, 22, 22])
    return save_workbook(wb)


def yearly_csv(y: YearlyIndicators) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["oddíl", "položka", "počet", "objem Kč"])
    for p in (y.previous_year_end, y.mid_year, y.year_end):
        for label, attr in STATE_ROWS:
            w.writerow([f"stav k {czech_date(p.day)}", label, str(getattr(p, attr)), ""])
    for months, total, label in ((y.first_half, y.first_half_total, "Celkem 1. pololetí"),
                                 (y.second_half, y.second_half_total, "Celkem 2. pololetí")):
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
