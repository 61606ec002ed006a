"""A payment of several fees in the staff's screens and exports (issue 14): the list names
every service and the count of fees, the detail lists each fee with its share of the
refunds, and the CSV/XLSX exports have one row per fee (the municipality books each fee
to its own budget item) whose amounts add up to the payment."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import db_session
from app.models import Payment
from app.payments.exports import EXPORT_HEADER
from app.payments.refunds import refund_payment
from tests.admin.staff_helpers import login, make_staff
from tests.conftest import deliver_notifications
from tests.factories import make_service
from tests.test_several_fees import _form, _setup


@pytest.fixture
def household(app, client):  # type: ignore[no-untyped-def]
    """Jana's and Petr's waste fees and Jana's dog paid at once (900 + 900 + 300 Kč), then
    500 Kč refunded: the dog's 300 and 200 of Petr's fee (the last items first)."""
    m, waste, dog = _setup()
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}).text
    r = client.post(f"/obec/{m.slug}/zaplatit-vice", data={**_form(page), "item": ["0", "1", "2"]})
    review = r.headers["Location"]
    started = client.post(review, data={"consent": "yes"})
    client.post(started.headers["Location"].replace("http://localhost", ""), data={"action": "pay"})
    assert deliver_notifications(app, client) == [202]
    payment = db_session.scalar(select(Payment).where(Payment.external_id == review.rstrip("/").split("/")[-1]))
    assert payment.state == "paid" and len(payment.items) == 3
    refund_payment(payment, 50000, reason="pes uhynul")
    return {"m": m, "waste": waste, "dog": dog, "payment": payment}


def _clerk(app, m):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("clerk", m))
    return c


def _plain(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("\u00a0", " ")


def test_the_list_and_the_detail_show_every_fee(app, household) -> None:  # type: ignore[no-untyped-def]
    c, p = _clerk(app, household["m"]), household["payment"]
    listing = _plain(c.get("/admin/platby").text)
    assert "Poplatek za odpad + Poplatek ze psa" in listing and "3 poplatky" in listing
    detail = c.get(f"/admin/platby/{p.external_id}").text
    assert re.search(r"<dt>Služby</dt><dd[^>]*>Poplatek za odpad \+ Poplatek ze psa</dd>", detail)
    items = _plain(re.search(r'<table id="payment-items">.*?</table>', detail, re.S).group(0))
    assert "Platba za 3 poplatky" in _plain(detail)
    # Service, customer ID, payer, amount, refunded: the refund fell on the dog and on Petr's fee.
    assert "Poplatek za odpad Z-1001 Jana Nováková 900 Kč 0 Kč" in items
    assert "Poplatek za odpad Z-1002 Petr Novák 900 Kč 200 Kč" in items
    assert "Poplatek ze psa Z-1001 Jana Nováková 300 Kč 300 Kč" in items
    assert "Celkem 2 100 Kč 500 Kč" in items
    # The refund's confirmation names both services too.
    confirm = c.post(f"/admin/platby/{p.external_id}/vratit", data={"amount": "100", "reason": "x"})
    assert "Poplatek za odpad + Poplatek ze psa" in _plain(confirm.text)
    # In English.
    english = _plain(c.get(f"/admin/platby/{p.external_id}?lang=en").text)
    assert "Payment of 3 fees" in english and "Services" in english
    assert "3 fees" in _plain(c.get("/admin/platby").text)


def test_the_operator_sees_every_fee_across_the_region(app, household) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("operator"))
    listing = _plain(c.get("/admin/platby").text)
    assert "Poplatek za odpad + Poplatek ze psa" in listing and "3 poplatky" in listing


def test_a_payment_of_one_fee_shows_no_count(app, household) -> None:  # type: ignore[no-untyped-def]
    from tests.admin.staff_helpers import make_paid_demo_payment

    make_paid_demo_payment(make_service(household["m"], name="Poplatek z pobytu", slug="pobyt"), amount=5000)
    listing = _plain(_clerk(app, household["m"]).get("/admin/platby").text)
    assert listing.count("poplatky") == 1 and "Poplatek z pobytu" in listing


def test_csv_export_has_a_row_per_fee(app, household) -> None:  # type: ignore[no-untyped-def]
    c, p = _clerk(app, household["m"]), household["payment"]
    r = c.post("/admin/platby/export", data={"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header = rows[0]
    assert header == EXPORT_HEADER and header[-2:] == ["Položka platby", "Celá platba (Kč)"]
    col = {name: i for i, name in enumerate(header)}
    mine = [row for row in rows[1:] if row[0] == p.external_id]
    got = [
        (
            r[col["Služba"]],
            r[col["Zákaznické číslo"]],
            r[col["Částka (Kč)"]],
            r[col["Vráceno (Kč)"]],
            r[col["Položka platby"]],
            r[col["Celá platba (Kč)"]],
        )
        for r in mine
    ]
    assert got == [
        ("Poplatek za odpad", "Z-1001", "900,00", "0,00", "1 z 3", "2100,00"),
        ("Poplatek za odpad", "Z-1002", "900,00", "200,00", "2 z 3", "2100,00"),
        ("Poplatek ze psa", "Z-1001", "300,00", "300,00", "3 z 3", "2100,00"),
    ]
    # Every row carries the payment's own columns; the amounts add up to the payment.
    assert {(r[col["Variabilní symbol"]], r[col["Stav"]], r[col["Plátce"]]) for r in mine} == {
        (p.variable_symbol, "Částečně vrácena", "Jana Nováková")
    }
    assert sum(Decimal(r[col["Částka (Kč)"]].replace(",", ".")) for r in mine) == Decimal("2100")
    assert sum(Decimal(r[col["Vráceno (Kč)"]].replace(",", ".")) for r in mine) == Decimal("500")


def test_xlsx_export_has_a_row_per_fee(app, household, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c, p = _clerk(app, household["m"]), household["payment"]
    r = c.post("/admin/platby/export", data={"format": "xlsx"})
    path = tmp_path / "x.xlsx"
    path.write_bytes(r.get_data())
    ws = load_workbook(path).active
    header = [cell.value for cell in ws[1]]
    assert header == EXPORT_HEADER
    col = {name: i for i, name in enumerate(header)}
    mine = [row for row in ws.iter_rows(min_row=2) if row[0].value == p.external_id]
    assert [
        (
            r[col["Služba"]].value,
            r[col["Zákaznické číslo"]].value,
            Decimal(str(r[col["Částka (Kč)"]].value)),
            Decimal(str(r[col["Vráceno (Kč)"]].value)),
            r[col["Položka platby"]].value,
        )
        for r in mine
    ] == [
        ("Poplatek za odpad", "Z-1001", Decimal(900), Decimal(0), "1 z 3"),
        ("Poplatek za odpad", "Z-1002", Decimal(900), Decimal(200), "2 z 3"),
        ("Poplatek ze psa", "Z-1001", Decimal(300), Decimal(300), "3 z 3"),
    ]
    whole = mine[0][col["Celá platba (Kč)"]]
    assert Decimal(str(whole.value)) == Decimal(2100) and whole.data_type == "n" and "Kč" in whole.number_format
    assert all(ws.column_dimensions[c.column_letter].width >= len(t) for c, t in zip(mine[0], header, strict=True))


def test_filtering_by_a_later_fees_service_finds_the_payment(app, household) -> None:  # type: ignore[no-untyped-def]
    """The household's payment is filed under its first fee (waste); filtered by the dog's
    service it is found too, and that export has the dog's fee only, with its refund."""
    c, p, dog = _clerk(app, household["m"]), household["payment"], household["dog"]
    listing = c.get(f"/admin/platby?service={dog.id}").text
    assert f"/admin/platby/{p.external_id}" in listing
    other = make_service(household["m"], name="Poplatek z pobytu", slug="pobyt")
    assert f"/admin/platby/{p.external_id}" not in c.get(f"/admin/platby?service={other.id}").text
    r = c.post("/admin/platby/export", data={"format": "csv", "service": str(dog.id)})
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    col = {name: i for i, name in enumerate(rows[0])}
    assert [
        (r[0], r[col["Služba"]], r[col["Částka (Kč)"]], r[col["Vráceno (Kč)"]], r[col["Položka platby"]])
        for r in rows[1:]
    ] == [(p.external_id, "Poplatek ze psa", "300,00", "300,00", "3 z 3")]
