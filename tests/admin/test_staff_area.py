"""The staff area as clerks and the operator see it (issue 14): the refund flow with its
confirmation step and the gateway's refusal as its own message, one layout and menu for
clerks and the operator, and payments, events and audit entries in words."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import db_session
from app.models import Payment, PaymentEvent, Refund
from app.payments.transitions import record_event
from tests.admin.staff_helpers import csrf_from, login, make_paid_demo_payment, make_staff
from tests.factories import make_municipality, make_service


def _plain(html: str) -> str:
    """Amounts without their no-break spaces and ",00" (format_czk may write either)."""
    return re.sub(r"(\d),00(?=\sKč)", r"\1", html.replace("\u00a0", " ").replace("\u202f", " "))


def _clerk(app, m):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("clerk", m))
    return c


# -- refunds ----------------------------------------------------------------------------
def test_refund_amount_starts_empty_with_the_remainder_as_hint(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    html = _clerk(app, m).get(f"/admin/platby/{p.external_id}").get_data(as_text=True)
    amount_input = re.search(r'<input[^>]*id="amount"[^>]*>', html).group(0)
    assert 'value="' not in amount_input or 'value=""' in amount_input
    assert "Lze vrátit nejvýše 500 Kč" in _plain(html)
    assert 'aria-describedby="amount-hint"' in amount_input


def test_refund_asks_for_confirmation_before_money_moves(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    c = _clerk(app, m)
    page = c.get(f"/admin/platby/{p.external_id}").get_data(as_text=True)
    r = c.post(
        f"/admin/platby/{p.external_id}/vratit",
        data={"csrf_token": csrf_from(page), "amount": "120", "reason": "Přeplatek"},
    )
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Opravdu vrátit?" in html and "120 Kč" in _plain(html) and "Přeplatek" in html
    db_session.expire_all()
    assert db_session.get(Payment, p.id).amount_refunded == 0
    assert not db_session.scalars(select(Refund)).all()
    # Confirmed: now the refund happens.
    r = c.post(
        f"/admin/platby/{p.external_id}/vratit",
        data={"csrf_token": csrf_from(html), "amount": "120", "reason": "Přeplatek", "confirm": "1"},
    )
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Payment, p.id).amount_refunded == 12000


def test_refund_form_errors_come_before_the_confirmation(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    r = _clerk(app, m).post(f"/admin/platby/{p.external_id}/vratit", data={"amount": "900", "reason": "x"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Formulář obsahuje chyby" in html and "nejvýše" in html and "Opravdu vrátit?" not in html


def test_gateway_refusal_is_its_own_message_not_a_form_error(app, monkeypatch):  # type: ignore[no-untyped-def]
    from app.gateways import get_gateway
    from gateway import GatewayError

    def refuse(self, reference, amount, reason):  # type: ignore[no-untyped-def]
        raise GatewayError("declined")

    monkeypatch.setattr(type(get_gateway("demo")), "refund", refuse)
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    r = _clerk(app, m).post(
        f"/admin/platby/{p.external_id}/vratit", data={"amount": "100", "reason": "Přeplatek", "confirm": "1"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 502
    assert 'id="gateway-refusal"' in html and "Platební brána vrácení odmítla" in html
    assert "Formulář obsahuje chyby" not in html


# -- one staff area ---------------------------------------------------------------------
def test_operator_reaches_operator_pages_from_admin_and_back(app):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("operator"))
    html = c.get("/admin/").get_data(as_text=True)
    for url in ("/admin/operator/", "/admin/operator/zpravy/mesicni", "/admin/operator/zpravy/rocni"):
        assert f'href="{url}"' in html, url
    op = c.get("/admin/operator/").get_data(as_text=True)
    # The same layout and menu: back to the clerk screens, the current page marked.
    assert 'class="admin-nav"' in op and 'href="/admin/"' in op and 'href="/admin/platby"' in op
    assert re.search(r'href="/admin/operator/" aria-current="page"', op)


def test_clerk_menu_has_no_operator_pages(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    html = _clerk(app, m).get("/admin/").get_data(as_text=True)
    assert "/admin/operator/" not in html and "/admin/audit" not in html
    assert 'href="/admin/" aria-current="page"' in html


# -- words ------------------------------------------------------------------------------
def test_payment_history_in_words(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    for reason in ("created", "created at gateway", "return page: seen at gateway"):
        db_session.add(PaymentEvent(payment_id=p.id, kind="transition", reason=reason))
    record_event(p, "gateway_message", "payment.paid", {"event_id": "e1"})
    record_event(p, "gateway_message", "status poll: gateway says paid", {})
    db_session.commit()
    html = _clerk(app, m).get(f"/admin/platby/{p.external_id}").get_data(as_text=True)
    history = html[html.index("Historie platby") :]
    for raw in ("transition", "gateway_message", "created at gateway", "payment.paid", "gateway says", ">demo "):
        assert raw not in history, raw
    for words in (
        "Změna stavu",
        "Zpráva platební brány",
        "Platba založena na platební bráně",
        "Oznámení platební brány: zaplaceno",
        "Plátce je na platební bráně",
    ):
        assert words in history, words
    assert "Demo brána" in html


def test_audit_log_in_words(app):  # type: ignore[no-untyped-def]
    from app.models import AuditLog

    m = make_municipality()
    clerk = make_staff("clerk", m, name="Alena Černá")
    operator = make_staff("operator", name="Olga Krajská")
    db_session.add_all(
        [
            AuditLog(
                staff_id=operator.id,
                staff_email=operator.email,
                action="service_edit",
                object_type="Service",
                object_id="7",
                municipality_id=m.id,
                before={"name": "Psi", "amount": 30000, "active": True},
                after={"name": "Poplatek ze psů – Černá", "amount": 45050, "active": False},
            ),
            AuditLog(
                staff_id=operator.id,
                staff_email=operator.email,
                action="role_change",
                object_type="StaffUser",
                object_id=str(clerk.id),
                municipality_id=m.id,
                before={"role": "clerk"},
                after={"role": "municipality_admin"},
            ),
        ]
    )
    db_session.commit()
    c = app.test_client()
    login(c, operator)
    html = c.get("/admin/audit").get_data(as_text=True)
    rows = html[html.index("<tbody>") :]
    for raw in ("service_edit", "role_change", "StaffUser", "\\u010d", "{&#34;", '{"', "45050", "30000"):
        assert raw not in rows, raw
    plain = _plain(rows)
    for words in (
        "Úprava služby",
        "Změna role",
        "Pracovník Alena Černá",
        "Olga Krajská",
        "Částka: 300 Kč → 450,50 Kč",
        "Aktivní: ano → ne",
        "Název: Psi → Poplatek ze psů – Černá",
        "Role: Úředník → Správce obce",
    ):
        assert words in plain, words
    # The action filter offers words too, keeping the code as its value.
    assert '<option value="service_edit">Úprava služby</option>' in html


# -- exports ----------------------------------------------------------------------------
def _export_data(app):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from app.models import Obligation
    from tests.factories import make_payment

    m = make_municipality()
    s = make_service(m, name="Poplatek ze psů")
    ob = Obligation(municipality_id=m.id, service_id=s.id, customer_id="000123", payer_name="Jan Novák", amount=123450)
    db_session.add(ob)
    db_session.commit()
    p = make_payment(
        s,
        state="paid",
        amount=123450,
        variable_symbol="0001234567",
        obligation_id=ob.id,
        created_at=datetime(2026, 2, 10, 12, 0, tzinfo=UTC),
        paid_at=datetime(2026, 2, 10, 12, 5, tzinfo=UTC),
    )
    return _clerk(app, m), p


def test_csv_export_states_and_gateways_in_czech(app):  # type: ignore[no-untyped-def]
    import csv
    import io

    c, p = _export_data(app)
    r = c.post("/admin/platby/export", data={"format": "csv"})
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8").lstrip("\ufeff")), delimiter=";"))
    header, row = rows[0], rows[1]
    assert header[5] == "Stav" and header[13] == "Zákaznické číslo"
    assert row[5] == "Zaplacena" and row[9] == "Demo brána" and row[13] == "000123" and row[8] == "0001234567"
    assert row[6] == "1234,50"


def test_xlsx_export_is_typed_and_fitted(app, tmp_path):  # type: ignore[no-untyped-def]
    from datetime import datetime
    from decimal import Decimal

    from openpyxl import load_workbook

    c, p = _export_data(app)
    r = c.post("/admin/platby/export", data={"format": "xlsx"})
    path = tmp_path / "x.xlsx"
    path.write_bytes(r.get_data())
    ws = load_workbook(path).active
    header = [cell.value for cell in ws[1]]
    assert header[:3] == ["Identifikátor", "Vytvořeno", "Zaplaceno"] and header[13] == "Zákaznické číslo"
    row = ws[2]
    # Dates are dates (Prague time), amounts numbers in Kč, identifiers text with their zeros.
    assert row[1].is_date and row[1].value == datetime(2026, 2, 10, 13, 0)
    assert row[2].value == datetime(2026, 2, 10, 13, 5)
    assert Decimal(str(row[6].value)) == Decimal("1234.5") and row[6].data_type == "n"
    assert "Kč" in row[6].number_format and "0.00" in row[6].number_format
    assert row[8].value == "0001234567" and row[8].data_type == "s" and row[8].number_format == "@"
    assert row[13].value == "000123" and row[13].data_type == "s"
    assert row[5].value == "Zaplacena" and row[9].value == "Demo brána"
    widths = {ws.column_dimensions[col].width for col in "ABCDEFGHIJKLMNO"}
    assert len(widths) > 4
    for i, title in enumerate(header):
        col = ws.column_dimensions[row[i].column_letter]
        assert col.width >= len(title), title
    assert ws.freeze_panes == "A2"
