"""The report charts as a reader meets them (issue 14): every month's label distinct,
the unit stated, a visible caption and a text alternative on every chart; month names in
the page's language."""

from __future__ import annotations

import re

from tests.admin.staff_helpers import login, make_staff


def _operator(app):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("operator", None))
    return c


def _svg_labels(svg: str) -> list[str]:
    # The column labels are the texts at the bottom line (y = height - 8 = 232).
    return re.findall(r'<text x="[\d.]+" y="232" text-anchor="middle" fill="#262626">([^<]+)</text>', svg)


def test_yearly_charts_have_distinct_months_a_unit_and_captions(app):  # type: ignore[no-untyped-def]
    html = _operator(app).get("/admin/operator/zpravy/rocni?rok=2025").get_data(as_text=True)
    figures = re.findall(r'<figure class="chart-figure">(.*?)</figure>', html, re.S)
    assert len(figures) == 2
    for fig in figures:
        labels = _svg_labels(fig)
        assert len(labels) == 12 and len(set(labels)) == 12, labels
        assert "<figcaption>" in fig and "<title" in fig and "<desc" in fig
    assert _svg_labels(figures[0])[5:7] == ["čvn", "čvc"]
    assert "tis. Kč" in re.search(r"<figcaption>(.*?)</figcaption>", figures[1]).group(1)


def test_monthly_charts_have_captions(app):  # type: ignore[no-untyped-def]
    html = _operator(app).get("/admin/operator/zpravy/mesicni?obdobi=2025-06").get_data(as_text=True)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert len(captions) >= 2 and all("červen 2025" in c for c in captions)
    assert "v Kč" in captions[1]


def test_report_month_names_in_english(app):  # type: ignore[no-untyped-def]
    c = _operator(app)
    c.get("/admin/?lang=en")
    html = c.get("/admin/operator/zpravy/rocni?rok=2025").get_data(as_text=True)
    assert "June 2025" in html and "Červen" not in html
    assert "Jun" in _svg_labels(html) and "Jul" in _svg_labels(html)
    monthly = c.get("/admin/operator/zpravy/mesicni?obdobi=2025-06").get_data(as_text=True)
    assert "June 2025" in monthly and "červen" not in monthly
