"""Payments in the admin: every filter, sorting, keyset pagination, refunds, exports,
the dashboard and the audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import db_session, utcnow
from app.models import AuditLog, ExportJob, Payment, PaymentEvent
from app.payments import search as ap
from tests.admin.staff_helpers import login, make_paid_demo_payment, make_staff
from tests.factories import make_municipality, make_payment, make_service


def _ids(html: str) -> set[str]:
    return set(re.findall(r"/admin/platby/([a-z2-9]{26})", html))


@pytest.fixture
def data(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    odpad = make_service(m, name="Odpad", amount=80000)
    psi = make_service(m, name="Psi", amount=30000)
    jan1_prague = datetime(2026, 1, 1, 0, 30, tzinfo=UTC) - timedelta(hours=1)  # 2026-01-01 00:30 Prague
    p = {
        "paid_odpad": make_payment(odpad, state="paid", variable_symbol="1337000001", payer_name="Jana Nováková",
                                   payer_email="jana@example.cz", gateway_reference="ref-A1", created_at=jan1_prague),
        "failed_psi": make_payment(psi, state="failed", variable_symbol="1341000002", payer_name="Petr Dvořák",
                                   payer_email="petr@example.cz", created_at=jan1_prague - timedelta(hours=1)),
        "paid_psi_big": make_payment(psi, state="paid", amount=150000, variable_symbol="1341000003",
                                     payer_name="Eva Malá", payer_email="eva@firma.cz", gateway_reference="ref-C3",
                                     created_at=datetime(2026, 2, 10, 12, 0, tzinfo=UTC)),
    }
    other = make_service(make_municipality(), name="Cizí")
    p["foreign"] = make_payment(other, state="paid", payer_name="Jana Nováková")
    c = app.test_client()
    login(c, make_staff("clerk", m))
    return {"m": m, "odpad": odpad, "psi": psi, "p": p, "client": c}


def _ext(data, *names):  # type: ignore[no-untyped-def]
    return {data["p"][n].external_id for n in names}


def test_each_filter(data):  # type: ignore[no-untyped-def]
    c = data["client"]
    cases = [
        ({}, ["paid_odpad", "failed_psi", "paid_psi_big"]),
        ({"state": "paid"}, ["paid_odpad", "paid_psi_big"]),
        ({"state": "failed"}, ["failed_psi"]),
        # Dates are Prague days: 00:30 on 1 January in Prague is still 31 December in UTC.
        ({"date_from": "2026-01-01", "date_to": "2026-01-01"}, ["paid_odpad"]),
        ({"date_to": "2025-12-31"}, ["failed_psi"]),
        ({"date_from": "2026-02-01"}, ["paid_psi_big"]),
        ({"service": str(data["psi"].id)}, ["failed_psi", "paid_psi_big"]),
        ({"amount_min": "500"}, ["paid_odpad", "paid_psi_big"]),
        ({"amount_max": "800"}, ["paid_odpad", "failed_psi"]),
        ({"amount_min": "1000", "amount_max": "1500"}, ["paid_psi_big"]),
        ({"ref": "1341000002"}, ["failed_psi"]),
        ({"ref": "ref-C3"}, ["paid_psi_big"]),
        ({"payer": "nováková"}, ["paid_odpad"]),
        ({"payer": "FIRMA.cz"}, ["paid_psi_big"]),
        ({"payer": "%"}, []),
    ]
    for args, expected in cases:
        r = c.get("/admin/platby", query_string=args)
        assert r.status_code == 200
        assert _ids(r.text) == _ext(data, *expected), args


def test_bad_filter_values_give_messages_not_errors(data):  # type: ignore[no-untyped-def]
    c = data["client"]
    for args, message in [({"state": "hacked"}, "Neznámý stav"), ({"date_from": "31.12.2026"}, "RRRR-MM-DD"),
                          ({"amount_min": "abc"}, "číslo v korunách"), ({"service": "x1"}, "Neznámá služba"),
                          ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "Konec období"),
                          ({"cursor": "!!!"}, None), ({"sort": "drop table"}, None)]:
        r = c.get("/admin/platby", query_string=args)
        assert r.status_code == 200, args
        if message:
            assert message in r.text


def test_sorting(data):  # type: ignore[no-untyped-def]
    f = ap.PaymentFilter(sort="amount_asc")
    page = ap.list_payments(f, data["m"].id)
    assert [p.amount for p in page.items] == [30000, 80000, 150000]
    page = ap.list_payments(ap.PaymentFilter(sort="created_asc"), data["m"].id)
    assert [p.external_id for p in page.items][0] == data["p"]["failed_psi"].external_id
    page = ap.list_payments(ap.PaymentFilter(), data["m"].id)
    assert [p.external_id for p in page.items][0] == data["p"]["paid_psi_big"].external_id


@pytest.mark.parametrize("sort", ap.SORTS)
def test_keyset_pagination_has_no_dupes_or_gaps(app, sort):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    same = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    made = []
    for i in range(23):
        # Many equal timestamps and equal amounts: the id breaks ties.
        made.append(make_payment(s, amount=10000 * (1 + i % 3), created_at=same if i % 2 else same + timedelta(seconds=i)))
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = ap.list_payments(ap.PaymentFilter(sort=sort), m.id, cursor=cursor, page_size=5)
        seen.extend(p.id for p in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    full = ap.list_payments(ap.PaymentFilter(sort=sort), m.id, page_size=100).items
    assert seen == [p.id for p in full]


def test_keyset_pagination_through_the_page(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    for _ in range(7):
        make_payment(s, created_at=datetime(2026, 3, 1, tzinfo=UTC))
    app.config["ADMIN_PAGE_SIZE"] = 3
    c = app.test_client()
    login(c, make_staff("viewer", m))
    url, seen = "/admin/platby?state=created", []
    while url:
        r = c.get(url)
        seen += sorted(_ids(r.text))
        nxt = re.search(r'rel="next" href="([^"]+)"', r.text)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == len(set(seen)) == 7


def test_detail_shows_the_event_history(data):  # type: ignore[no-untyped-def]
    p = data["p"]["paid_odpad"]
    db_session.add(PaymentEvent(payment_id=p.id, kind="transition", from_state="started", to_state="paid",
                                reason="notification evt_123"))
    db_session.commit()
    r = data["client"].get(f"/admin/platby/{p.external_id}")
    assert r.status_code == 200 and "Podle: oznámení platební brány" in r.text and "evt_123" not in r.text and "Vrátit platbu" in r.text


def _refund(c, p, amount, reason="Chybná platba"):  # type: ignore[no-untyped-def]
    return c.post(f"/admin/platby/{p.external_id}/vratit", data={"amount": amount, "reason": reason, "confirm": "1"})


def test_partial_then_full_refund(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    c = app.test_client()
    login(c, make_staff("clerk", m))
    assert _refund(c, p, "100").status_code == 303
    db_session.expire_all()
    p = db_session.get(Payment, p.id)
    assert (p.state, p.amount_refunded) == ("partially_refunded", 10000)
    assert _refund(c, p, "400").status_code == 303
    db_session.expire_all()
    p = db_session.get(Payment, p.id)
    assert (p.state, p.amount_refunded) == ("refunded", 50000)
    log = db_session.scalars(select(AuditLog).where(AuditLog.action == "refund").order_by(AuditLog.id)).all()
    assert [e.after["amount"] for e in log] == [10000, 40000]
    assert log[0].before["state"] == "paid" and log[0].after["reason"] == "Chybná platba"
    reasons = db_session.scalars(select(PaymentEvent.reason).where(PaymentEvent.payment_id == p.id)).all()
    assert "refund: Chybná platba" in reasons


def test_refund_errors_are_form_errors(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    p = make_paid_demo_payment(make_service(m), amount=50000)
    c = app.test_client()
    login(c, make_staff("clerk", m))
    for amount, reason, message in [("600", "x", "nejvýše"), ("0", "x", "kladná"), ("abc", "x", "číslo v korunách"),
                                    ("-1", "x", "číslo v korunách"), ("100", "", "Uveďte důvod")]:
        r = _refund(c, p, amount, reason)
        assert r.status_code == 422 and message in r.text, (amount, reason)
    db_session.expire_all()
    assert db_session.get(Payment, p.id).amount_refunded == 0
    failed = make_payment(make_service(m), state="failed")
    r = _refund(c, failed, "100")
    assert r.status_code == 422 and "nelze vrátit" in r.text


def _export(c, fmt, **filters):  # type: ignore[no-untyped-def]
    return c.post("/admin/platby/export", data={"format": fmt, **filters})


def test_csv_export_of_the_filtered_list(data):  # type: ignore[no-untyped-def]
    r = _export(data["client"], "csv", state="paid")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Identifikátor"
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == _ext(data, "paid_odpad", "paid_psi_big")
    big = by_id[data["p"]["paid_psi_big"].external_id]
    assert big[6] == "1500,00" and big[4] == "Psi" and big[11] == "Eva Malá" and big[1] == "2026-02-10 13:00:00"
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "export")).after["rows"] == 2


def test_xlsx_export_parses_back(data, tmp_path):  # type: ignore[no-untyped-def]
    r = _export(data["client"], "xlsx", payer="nováková")
    assert r.status_code == 200
    path = tmp_path / "x.xlsx"
    path.write_bytes(r.get_data())
    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Identifikátor" and len(rows) == 2
    assert rows[1][0] == data["p"]["paid_odpad"].external_id and float(rows[1][6]) == 800.0


def test_big_export_runs_as_a_job(app, data, tmp_path):  # type: ignore[no-untyped-def]
    app.config["EXPORT_SYNC_LIMIT"] = 2
    app.config["EXPORT_DIR"] = str(tmp_path)
    c = data["client"]
    r = _export(c, "csv")
    assert r.status_code == 303 and "/admin/exporty/" in r.headers["Location"]
    status = c.get(r.headers["Location"])
    assert status.status_code == 200 and "připraven (3 řádků)" in status.text
    link = re.search(r'href="(/admin/exporty/\d+/stahnout)"', status.text).group(1)
    body = c.get(link).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == _ext(data, "paid_odpad", "failed_psi", "paid_psi_big")
    job = db_session.scalar(select(ExportJob))
    assert job.status == "done" and job.row_count == 3
    # Another clerk of the same municipality cannot download it.
    other = app.test_client()
    login(other, make_staff("clerk", data["m"]))
    assert other.get(link).status_code == 404


def test_dashboard_numbers(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    now = utcnow()
    make_payment(s, amount=10000, state="paid", paid_at=now)
    make_payment(s, amount=25050, state="partially_refunded", amount_refunded=5000, paid_at=now)
    make_payment(s, amount=99900, state="failed")
    make_payment(s, amount=70000, state="paid", paid_at=now - timedelta(days=40))
    make_payment(make_service(make_municipality()), amount=12300, state="paid", paid_at=now)
    stats = ap.month_stats(m.id, now)
    assert (stats.paid_count, stats.paid_sum, stats.refunded_sum) == (2, 35050, 5000)
    c = app.test_client()
    login(c, make_staff("viewer", m))
    page = c.get("/admin/").text
    assert re.search(r'id="stat-count">2<', page)
    assert "350,50\u00a0Kč" in page


def test_dashboard_month_is_a_prague_month(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    # 31 Jan 23:30 UTC is already 1 February in Prague.
    make_payment(s, amount=10000, state="paid", paid_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    make_payment(s, amount=20000, state="paid", paid_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    feb = ap.month_stats(m.id, datetime(2026, 2, 15, tzinfo=UTC))
    jan = ap.month_stats(m.id, datetime(2026, 1, 15, tzinfo=UTC))
    assert (feb.paid_count, feb.paid_sum, jan.paid_count, jan.paid_sum) == (1, 10000, 1, 20000)


def test_audit_page_is_filterable(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    boss = make_staff("municipality_admin", m, email="boss@example.cz")
    c = app.test_client()
    login(c, boss)
    c.post("/admin/tym/pozvat", data={"email": "kolega@example.cz", "role": "viewer"})
    op = app.test_client()
    login(op, make_staff("operator", None, email="op@example.cz"))
    page = op.get("/admin/audit", query_string={"action": "invitation"}).text
    assert page.count('class="audit-row"') == 1 and "kolega@example.cz" in page
    page = op.get("/admin/audit", query_string={"staff": "boss@"}).text
    assert page.count('class="audit-row"') == 2  # login + invitation
    page = op.get("/admin/audit", query_string={"municipality": str(m.id)}).text
    assert "boss@example.cz" in page and "op@example.cz" not in page
    assert op.get("/admin/audit", query_string={"date_from": "2000-01-01", "date_to": "2000-01-02"}).text.count(
        'class="audit-row"') == 0
    assert "RRRR-MM-DD" in op.get("/admin/audit", query_string={"date_from": "x"}).text


def test_team_role_change_is_audited(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    boss = make_staff("municipality_admin", m)
    member = make_staff("viewer", m)
    c = app.test_client()
    login(c, boss)
    assert "Tým" in c.get("/admin/tym").text
    c.post(f"/admin/tym/{member.id}/role", data={"role": "clerk"})
    entry = db_session.scalar(select(AuditLog).where(AuditLog.action == "role_change"))
    assert entry.before == {"role": "viewer"} and entry.after == {"role": "clerk"} and entry.staff_id == boss.id
    # Not to operator, not oneself.
    c.post(f"/admin/tym/{member.id}/role", data={"role": "operator"})
    c.post(f"/admin/tym/{boss.id}/role", data={"role": "viewer"})
    db_session.expire_all()
    assert db_session.get(type(member), member.id).role == "clerk" and db_session.get(type(boss), boss.id).role == "municipality_admin"
