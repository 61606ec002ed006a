"""Clean data in, safe data out: control characters are form errors, notifications'
values are checked before the database, absurd dates are filter errors, and exports
neutralise formulas and control characters."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import tempfile
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.db import db_session
from app.models import GatewayNotification, Payment, Service
from app.payments import exports
from app.payments.search import PaymentFilter
from app.validation import has_control_characters, parse_day
from gateway.demo import SIGNATURE_HEADER, sign
from tests.admin.staff_helpers import csrf_from, login, make_staff
from tests.factories import make_municipality, make_payment, make_service

ESC = "\x1b"


def test_control_characters_are_recognised() -> None:
    assert has_control_characters(f"Jana{ESC}[31m")
    assert has_control_characters("a\tb") and not has_control_characters("a\tb\r\nc", multiline=True)
    assert has_control_characters("a\x00b", multiline=True) and has_control_characters("\x85")
    assert not has_control_characters("Jana Nováková – Řež") and not has_control_characters("")


def test_pay_form_refuses_a_control_character_in_the_name(app, client) -> None:  # type: ignore[no-untyped-def]
    s = make_service(make_municipality(), slug="odpad")
    r = client.post(
        f"/obec/{s.municipality.slug}/odpad", data={"name": f"Jana{ESC}Nováková", "email": "jana@example.cz"}
    )
    assert r.status_code == 422 and "řídicí znaky" in r.text
    assert db_session.scalar(select(func.count(Payment.id))) == 0


def test_admin_forms_refuse_control_characters(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = app.test_client()
    login(c, make_staff("municipality_admin", m))
    page = c.get("/admin/sluzby/nova")
    assert page.status_code == 200
    data = {
        "csrf_token": "x",
        "name": f"Odpad{ESC}",
        "amount_mode": "fixed",
        "amount": "500",
        "vs_rule": "per_payment",
        "lookup_mode": "none",
        "amount_match": "exact",
        "active": "y",
        "allowed_gateways": "demo",
    }
    r = c.post("/admin/sluzby/nova", data=data)
    assert r.status_code in (200, 422) and "řídicí znaky" in r.text
    assert db_session.scalar(select(func.count(Service.id))) == 0
    # A line break is fine in the description (a multi-line field), ESC is not.
    data.update(name="Odpad", description=f"Řádek 1\r\nŘádek 2{ESC}")
    r = c.post("/admin/sluzby/nova", data=data)
    assert "řídicí znaky" in r.text and db_session.scalar(select(func.count(Service.id))) == 0


def _signed(app, payload: dict) -> tuple[bytes, dict[str, str]]:  # type: ignore[no-untyped-def, type-arg]
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(app.config["DEMO_GATEWAY_SECRET"], body)}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id", "e" * 101, "event_id is longer than 100"),
        ("type", "payment." + "x" * 60, "event_type is longer than 60"),
        ("id", "evt\x00nul", "event_id contains control characters"),
        ("reference", "demo\x00x", "reference contains control characters"),
        ("reference", "r" * 150, "reference is longer than 100"),
    ],
)
def test_signed_demo_notification_with_bad_values_is_a_400(app, client, field, value, reason) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(make_service(make_municipality()), state="started", gateway_reference="demo_ref_1")
    payload = {
        "id": "evt_ok",
        "type": "payment.paid",
        "reference": payment.gateway_reference,
        "created": int(time.time()),
    }
    payload[field] = value
    body, headers = _signed(app, payload)
    r = client.post("/webhooks/demo", data=body, headers=headers)
    assert r.status_code == 400 and reason in r.json["error"]
    assert db_session.scalar(select(func.count(GatewayNotification.id))) == 0


def test_dates_outside_a_sane_range_are_filter_errors(app) -> None:  # type: ignore[no-untyped-def]
    assert parse_day("2026-02-28").year == 2026
    f = PaymentFilter.from_args({"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert set(f.errors) == {"date_from", "date_to"} and f.date_from is None and f.date_to is None
    m = make_municipality()
    c = app.test_client()
    login(c, make_staff("clerk", m))
    r = c.get("/admin/platby?date_from=0001-01-01&date_to=9999-12-31")
    assert r.status_code == 200 and "Zadejte datum mezi 2000-01-01 a 2100-12-31" in r.text
    r = c.post("/admin/platby/export", data={"format": "xlsx", "date_to": "9999-12-31"})
    assert r.status_code == 303 and "/admin/platby" in r.headers["Location"]
    operator = app.test_client()
    login(operator, make_staff("operator"))
    r = operator.get("/admin/audit?date_from=0001-01-01&date_to=9999-12-31")
    assert r.status_code == 200 and "Zadejte datum mezi" in r.text


def test_exports_neutralise_formulas_and_control_characters(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    names = ['=HYPERLINK("http://evil.example")', f"Jana{ESC}Nováková", "+420 123", "@SUM(A1)", "\tTab", "-1+2"]
    for n in names:
        make_payment(s, state="paid", payer_name=n)
    c = app.test_client()
    login(c, make_staff("clerk", m))
    r = c.post("/admin/platby/export", data={"format": "csv"})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    payers = {row[11] for row in rows[1:]}
    assert payers == {
        '\'=HYPERLINK("http://evil.example")',
        "Jana Nováková",
        "'+420 123",
        "'@SUM(A1)",
        "' Tab",
        "'-1+2",
    }
    r = c.post("/admin/platby/export", data={"format": "xlsx"})
    assert r.status_code == 200
    path = tmp_path / "x.xlsx"
    path.write_bytes(r.get_data())
    wb = load_workbook(path)
    cells = [row[11] for row in wb.active.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert {cell.value for cell in cells} == payers


def test_temporary_xlsx_is_removed_when_the_export_fails(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_payment(make_service(make_municipality()), state="paid")
    pattern = os.path.join(tempfile.gettempdir(), "platby-*.xlsx")
    before = set(glob.glob(pattern))

    def broken(rows, path):  # type: ignore[no-untyped-def]
        with open(path, "wb") as fh:
            fh.write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "write_xlsx", broken)
    with pytest.raises(RuntimeError):
        exports.xlsx_tempfile(PaymentFilter(), None)
    assert set(glob.glob(pattern)) == before


__all__ = ["csrf_from"]
