"""The reports as files: HTML (with inline SVG charts), PDF (WeasyPrint), XLSX (openpyxl)
and CSV (semicolon-separated with decimal commas and a BOM, as Czech Excel opens it), one
module per document: ``monthly`` (the monthly report), ``yearly`` (the yearly
indicators); ``common`` holds what they share. Amounts stay integer haléře until the
last step: XLSX gets exact Decimals, CSV and HTML get text."""

from app.reporting.render.common import FORMATS, Rendered, html_to_pdf
from app.reporting.render.monthly import monthly_body, monthly_html, monthly_title, render_monthly
from app.reporting.render.yearly import render_yearly, yearly_body, yearly_html, yearly_title

__all__ = [
    "FORMATS",
    "Rendered",
    "html_to_pdf",
    "monthly_body",
    "monthly_html",
    "monthly_title",
    "render_monthly",
    "render_yearly",
    "yearly_body",
    "yearly_html",
    "yearly_title",
]
