"""Obligations in the admin: the lookup settings of a service, uploading a payer list
(row-error report, nothing half-imported, allow_partial, bad files), the import status
page, the list with filters, scoping and roles; the dashboard's open obligations and the
receipt on the payment detail."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import func, select

from app.db import db_session
from app.models import AuditLog, ImportStatus, Obligation, ObligationImport, Service
from app.payments.transitions import transition_payment
from app.receipts.issuing import receipt_for_payment
from tests.admin.staff_helpers import login, make_staff
from tests.admin.test_admin_services import GOOD
from tests.factories import make_municipality, make_payment, make_service

HEADER = "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol"
VALID = (
    "\r\n".join(
        [
            HEADER,
            "1001;Jana Nováková;1 250,50;31. 3. 2030;20300001",
            "1002;Petr Šťastný;800;2030-06-30;",
        ]
    )
    + "\r\n"
)
WITH_ERRORS = (
    "\r\n".join(
        [
            HEADER,
            "1001;Jana Nováková;1 250,50;31. 3. 2030;20300001",
            "1002;Petr Šťastný;-800;2030-06-30;",  # line 3: negative amount
            "1003;Řehoř Čermák;500;31. 13. 2030;",  # line 4: no such date
            "1004;Eva Malá;abc;;",  # line 5: not a number
        ]
    )
    + "\r\n"
)


def _client(app, role, m):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff(role, m))
    return c


def _upload(c, service, content: bytes | str, filename: str = "predpisy.csv", **extra):  # type: ignore[no-untyped-def]
    data = content.encode("utf-8") if isinstance(content, str) else content
    return c.post(
        f"/admin/sluzby/{service.id}/predpisy/import",
        data={"file": (io.BytesIO(data), filename), **extra},
        content_type="multipart/form-data",
    )


def _obligations(service) -> dict[str, Obligation]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return {o.customer_id: o for o in db_session.scalars(select(Obligation).where(Obligation.service_id == service.id))}


def _imports() -> int:
    return db_session.scalar(select(func.count(ObligationImport.id))) or 0


# -- lookup settings -------------------------------------------------------------------
def test_lookup_settings_are_saved_audited_and_validated(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = _client(app, "municipality_admin", m)
    page = c.get("/admin/sluzby/nova").text
    assert "Vyhledání předpisu podle zákaznického čísla" in page and "Částka placená k předpisu" in page
    # A new service starts without lookup, paying exactly what is left.
    assert re.search(r'<input[^>]*checked[^>]*value="none"|<input[^>]*value="none"[^>]*checked', page)
    assert re.search(r'<input[^>]*checked[^>]*value="exact"|<input[^>]*value="exact"[^>]*checked', page)

    r = c.post("/admin/sluzby/nova", data={**GOOD, "lookup_mode": "required", "amount_match": "at_most"})
    assert r.status_code == 303, r.text
    s = db_session.scalar(select(Service).where(Service.municipality_id == m.id))
    assert (s.lookup_mode, s.amount_match) == ("required", "at_most")
    # The edit form shows what is stored; an edit is audited with before and after.
    page = c.get(f"/admin/sluzby/{s.id}/upravit").text
    assert re.search(r'<input[^>]*checked[^>]*value="required"|<input[^>]*value="required"[^>]*checked', page)
    r = c.post(f"/admin/sluzby/{s.id}/upravit", data={**GOOD, "lookup_mode": "optional", "amount_match": "any"})
    assert r.status_code == 303, r.text
    db_session.expire_all()
    s = db_session.get(Service, s.id)
    assert (s.lookup_mode, s.amount_match) == ("optional", "any")
    edit = db_session.scalar(select(AuditLog).where(AuditLog.action == "service_edit"))
    assert (edit.before["lookup_mode"], edit.after["lookup_mode"]) == ("required", "optional")
    assert (edit.before["amount_match"], edit.after["amount_match"]) == ("at_most", "any")

    # Unknown values are refused with a Czech message and nothing changes.
    for changes, message in [
        ({"lookup_mode": "sometimes"}, "páruje s předpisem"),
        ({"amount_match": "roughly"}, "jakou částku smí plátce"),
        ({"lookup_mode": ""}, "páruje s předpisem"),
    ]:
        r = c.post(f"/admin/sluzby/{s.id}/upravit", data={**GOOD, "amount_match": "exact", **changes})
        assert r.status_code == 422, changes
        assert message in r.text and 'id="error-summary"' in r.text
        db_session.expire_all()
        assert (db_session.get(Service, s.id).lookup_mode, db_session.get(Service, s.id).amount_match) == (
            "optional",
            "any",
        )


def test_the_lookup_setting_reaches_the_citizen(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = _client(app, "municipality_admin", m)
    assert c.post("/admin/sluzby/nova", data={**GOOD, "lookup_mode": "required"}).status_code == 303
    s = db_session.scalar(select(Service).where(Service.municipality_id == m.id))
    page = app.test_client().get(f"/obec/{m.slug}/{s.slug}").text
    assert "Vyhledejte, co máte zaplatit" in page


# -- upload and import -----------------------------------------------------------------
def test_a_file_with_bad_rows_reports_them_and_imports_nothing(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    c = _client(app, "municipality_admin", m)
    r = _upload(c, service, WITH_ERRORS)
    assert r.status_code == 303, r.text
    assert re.match(r".*/admin/predpisy/importy/\d+$", r.headers["Location"])
    page = c.get(r.headers["Location"]).text
    assert "Odmítnut" in page and "nic nebylo importováno" in page
    table = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    assert [(line, col) for line, col, _msg in rows] == [("3", "Částka"), ("4", "Splatnost"), ("5", "Částka")]
    assert all(msg.strip() for _line, _col, msg in rows)
    assert "Počet chyb: 3." in page
    assert _obligations(service) == {}
    record = db_session.scalar(select(ObligationImport))
    assert record.status == ImportStatus.REJECTED and record.error_count == 3
    # The upload is audited.
    entry = db_session.scalar(select(AuditLog).where(AuditLog.action == "obligation_import"))
    assert entry.after["filename"] == "predpisy.csv" and entry.after["service_id"] == service.id
    assert entry.municipality_id == m.id and entry.object_id == str(record.id)


def test_a_valid_file_is_imported_and_shown_and_reimport_updates(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    c = _client(app, "municipality_admin", m)
    r = _upload(c, service, VALID)
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).text
    assert "Dokončen" in page
    assert re.search(r'id="count-new">2<', page) and re.search(r'id="count-unchanged">0<', page)
    got = _obligations(service)
    assert set(got) == {"1001", "1002"} and got["1001"].amount == 125050 and got["1001"].due_date == date(2030, 3, 31)

    listing = c.get(f"/admin/sluzby/{service.id}/predpisy").text
    assert "Jana Nováková" in listing and "Petr Šťastný" in listing and "Nalezeno předpisů: 2" in listing
    assert "predpisy.csv" in listing  # the latest imports

    # The same file again: nothing new, nothing duplicated; a changed amount is "changed".
    page = c.get(_upload(c, service, VALID).headers["Location"]).text
    assert re.search(r'id="count-new">0<', page) and re.search(r'id="count-unchanged">2<', page)
    page = c.get(_upload(c, service, VALID.replace("800;", "900;")).headers["Location"]).text
    assert re.search(r'id="count-changed">1<', page) and re.search(r'id="count-unchanged">1<', page)
    got = _obligations(service)
    assert len(got) == 2 and got["1002"].amount == 90000


def test_xlsx_upload(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    wb = Workbook()
    ws = wb.active
    ws.append(["Zákaznické číslo", "Jméno", "Částka"])
    ws.append(["A-1", "Jana Nováková", 300])
    buf = io.BytesIO()
    wb.save(buf)
    c = _client(app, "municipality_admin", m)
    r = _upload(c, service, buf.getvalue(), "predpisy.xlsx")
    assert r.status_code == 303
    assert _obligations(service)["A-1"].amount == 30000


def test_allow_partial_imports_the_good_rows_and_reports_the_rest(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    c = _client(app, "municipality_admin", m)
    r = _upload(c, service, WITH_ERRORS, allow_partial="y")
    page = c.get(r.headers["Location"]).text
    assert "Dokončen" in page and "jen bezchybné řádky" in page
    assert re.search(r'id="count-new">1<', page)
    assert "Vynecháno chybných řádků: 3" in page
    assert re.findall(r"<tr><td>(\d+)</td>", page.split('id="import-errors"', 1)[1]) == ["3", "4", "5"]
    assert set(_obligations(service)) == {"1001"}


def test_bad_uploads_are_form_errors(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    c = _client(app, "municipality_admin", m)
    app.config["OBLIGATION_IMPORT_MAX_BYTES"] = 100
    cases = [
        (b"whatever", "predpisy.txt", "ve formátu CSV nebo XLSX"),
        (b"MZ\x90\x00", "program.exe", "ve formátu CSV nebo XLSX"),
        (VALID.encode() * 3, "predpisy.csv", "příliš velký"),
        (b"  \r\n", "predpisy.csv", "prázdný"),
        (b"", "", "Vyberte soubor"),
    ]
    for content, name, message in cases:
        r = _upload(c, service, content, name)
        assert r.status_code == 422, (name, r.status_code)
        assert message in r.text, (name, message)
        assert 'id="error-summary"' in r.text and 'aria-invalid="true"' in r.text
    # No file field at all.
    r = c.post(f"/admin/sluzby/{service.id}/predpisy/import", data={})
    assert r.status_code == 422 and "Vyberte soubor" in r.text
    assert _imports() == 0 and _obligations(service) == {}
    # A file the importer refuses as a whole (XLSX that is not one) gets its message on the status page.
    app.config["OBLIGATION_IMPORT_MAX_BYTES"] = 1024 * 1024
    r = _upload(c, service, b"not a workbook", "predpisy.xlsx")
    page = c.get(r.headers["Location"]).text
    assert "není platný soubor Excelu" in page and _obligations(service) == {}


def test_scoping_and_roles(app):  # type: ignore[no-untyped-def]
    a, b = make_municipality(name="Obec A"), make_municipality(name="Obec B")
    service_a = make_service(a)
    admin_a = _client(app, "municipality_admin", a)
    location = _upload(admin_a, service_a, VALID).headers["Location"]
    import_path = location.replace("http://localhost", "")

    admin_b = _client(app, "municipality_admin", b)
    for path in [
        f"/admin/sluzby/{service_a.id}/predpisy",
        f"/admin/sluzby/{service_a.id}/predpisy/import",
        import_path,
        "/admin/predpisy/importy/999999",
        "/admin/predpisy/importy/99999999999999",
    ]:
        assert admin_b.get(path).status_code == 404, path
    assert _upload(admin_b, service_a, VALID).status_code == 404

    for role in ("viewer", "clerk"):
        lesser = _client(app, role, a)
        assert lesser.get(f"/admin/sluzby/{service_a.id}/predpisy/import").status_code == 403
        assert _upload(lesser, service_a, VALID).status_code == 403
        # …but they may look.
        assert lesser.get(f"/admin/sluzby/{service_a.id}/predpisy").status_code == 200
        page = lesser.get(import_path).text
        assert "Dokončen" in page and "Nahrát další soubor" not in page
    assert _imports() == 1

    operator = _client(app, "operator", None)
    assert operator.get(import_path).status_code == 200


def test_running_import_shows_progress_and_refreshes(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    record = ObligationImport(
        service_id=service.id,
        filename="velky.csv",
        content=b"",
        size=10,
        status=ImportStatus.RUNNING,
        total_rows=10_000,
        processed_rows=2_500,
    )
    db_session.add(record)
    db_session.commit()
    page = _client(app, "viewer", m).get(f"/admin/predpisy/importy/{record.id}").text
    assert '<meta http-equiv="refresh"' in page and 'role="status"' in page
    assert "Zpracováno 2500 z 10000 řádků" in page
    assert '<progress max="10000" value="2500"' in page
    record.status = ImportStatus.DONE
    record.report = {"summary": "Importováno", "inserted": 10_000, "updated": 0, "unchanged": 0, "errors": []}
    db_session.commit()
    page = _client(app, "viewer", m).get(f"/admin/predpisy/importy/{record.id}").text
    assert '<meta http-equiv="refresh"' not in page and 'id="count-new">10000<' in page


def test_only_the_first_errors_are_listed_with_the_count(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    rows = [HEADER] + [f"{1000 + i};Jméno {i};-1;;" for i in range(250)]
    c = _client(app, "municipality_admin", m)
    page = c.get(_upload(c, service, "\r\n".join(rows)).headers["Location"]).text
    assert "Zobrazeno prvních 200 z 250 chyb." in page
    table = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r"<tr><td>\d+</td>", table)) == 200


def _add(service, customer_id, amount, paid=0, due=None):  # type: ignore[no-untyped-def]
    o = Obligation(
        municipality_id=service.municipality_id,
        service_id=service.id,
        customer_id=customer_id,
        payer_name=f"Plátce {customer_id}",
        amount=amount,
        amount_paid=paid,
        due_date=due,
    )
    db_session.add(o)
    db_session.commit()
    return o


def test_list_filters_and_pagination(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    other = make_service(m, name="Jiná", slug="jina")
    past, future = date.today() - timedelta(days=10), date.today() + timedelta(days=10)
    _add(service, "U-1", 10000, due=future)  # unpaid
    _add(service, "P-1", 10000, paid=4000, due=future)  # partially paid
    _add(service, "Z-1", 10000, paid=10000, due=past)  # paid (although past due)
    _add(service, "O-1", 10000, paid=1000, due=past)  # overdue
    _add(service, "U-2", 10000)  # unpaid, no due date
    _add(other, "U-3", 10000)  # another service
    c = _client(app, "viewer", m)
    url = f"/admin/sluzby/{service.id}/predpisy"

    def ids(**args):  # type: ignore[no-untyped-def]
        r = c.get(url, query_string=args)
        return sorted(re.findall(r"<tr><td>([A-Z]-\d)</td>", r.text)), r

    assert ids()[0] == ["O-1", "P-1", "U-1", "U-2", "Z-1"]
    assert ids(state="unpaid")[0] == ["U-1", "U-2"]
    assert ids(state="partially_paid")[0] == ["P-1"]
    assert ids(state="paid")[0] == ["Z-1"]
    assert ids(state="overdue")[0] == ["O-1"]
    assert ids(state="open")[0] == ["O-1", "P-1", "U-1", "U-2"]
    assert ids(q="U-")[0] == ["U-1", "U-2"]
    assert ids(q="%")[0] == []  # a wildcard is a character, not a pattern
    found, r = ids(state="nonsense")
    assert r.status_code == 422 and "Neznámý stav" in r.text
    _found, r = ids(q="x" * 51)
    assert r.status_code == 422 and "nejvýše 50 znaků" in r.text

    app.config["ADMIN_PAGE_SIZE"] = 2
    seen = []
    next_url: str | None = url
    while next_url:
        page = c.get(next_url.replace("&amp;", "&")).text
        seen += re.findall(r"<tr><td>([A-Z]-\d)</td>", page)
        m_next = re.search(r'rel="next" href="([^"]+)"', page)
        next_url = m_next.group(1) if m_next else None
    assert sorted(seen) == ["O-1", "P-1", "U-1", "U-2", "Z-1"] and len(seen) == 5
    assert c.get(url, query_string={"after": "abc"}).status_code == 200


# -- dashboard and payment detail ------------------------------------------------------
def test_dashboard_shows_open_obligations_and_the_overdue_amount(app):  # type: ignore[no-untyped-def]
    a, b = make_municipality(name="Obec A"), make_municipality(name="Obec B")
    sa, sb = make_service(a), make_service(b)
    past, future = date.today() - timedelta(days=1), date.today() + timedelta(days=30)
    _add(sa, "1", 10000, due=future)  # unpaid
    _add(sa, "2", 10000, paid=2500, due=future)  # partially paid
    _add(sa, "3", 20000, paid=5000, due=past)  # overdue: 150 Kč left
    _add(sa, "4", 30000, due=past)  # overdue: 300 Kč left
    _add(sa, "5", 10000, paid=10000, due=past)  # paid: not open
    _add(sb, "6", 99900, due=past)  # another municipality's
    page = _client(app, "viewer", a).get("/admin/").text

    def stat(name: str) -> str:
        found = re.search(rf'id="{name}">([^<]*)<', page)
        assert found, name
        return found.group(1).replace("\u00a0", " ")

    assert stat("stat-open-obligations") == "4"
    assert stat("stat-overdue-count") == "2"
    assert stat("stat-overdue-amount") == "450 Kč"
    page = _client(app, "viewer", b).get("/admin/").text
    assert stat("stat-open-obligations") == "1" and stat("stat-overdue-amount") == "999 Kč"


def test_payment_detail_shows_the_receipt(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    payment = make_payment(service, state="started")
    c = _client(app, "viewer", m)
    page = c.get(f"/admin/platby/{payment.external_id}").text
    assert "nevystaveno" in page
    transition_payment(payment, "paid", reason="test")
    db_session.commit()
    receipt = receipt_for_payment(payment)
    assert receipt is not None
    page = c.get(f"/admin/platby/{payment.external_id}").text
    assert receipt.full_number in page
    link = re.search(r'<dd id="receipt">.*?href="([^"]+)"', page, re.S)
    assert link and link.group(1).endswith(f"/potvrzeni/{receipt.token}.pdf")
    pdf = c.get(link.group(1))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def _error_rows(page: str) -> list[tuple[str, str, str]]:
    import html

    table = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        tuple(html.unescape(c) for c in row)
        for row in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    ]


def test_row_errors_are_said_in_the_readers_language(app):  # type: ignore[no-untyped-def]
    """The import job writes its report in its own language; a clerk who chose English
    reads the row errors in English with their values, and Czech again in Czech."""
    m = make_municipality()
    service = make_service(m)
    c = _client(app, "municipality_admin", m)
    url = _upload(c, service, WITH_ERRORS + "1005;Eva Malá;100;;12AB\r\n").headers["Location"]
    english = c.get(url + "?lang=en").text
    assert _error_rows(english) == [
        ("3", "Amount", 'The amount "-800" is negative.'),
        ("4", "Due date", 'The date "31. 13. 2030" does not exist.'),
        ("5", "Amount", 'The amount "abc" is not a number in crowns (e.g. 1 250,50).'),
        ("6", "Variable symbol", 'Variable symbol "12AB" may contain digits only.'),
    ]
    assert "Částka" not in english and "neexistuje" not in english
    czech = c.get(url + "?lang=cs").text
    assert _error_rows(czech)[1] == ("4", "Splatnost", "Datum „31. 13. 2030“ neexistuje.")
    # A file that cannot be read at all: its reason (a column's name inside) in English too,
    # also when the import ran in English and is read in Czech.
    url = _upload(c, service, "Jméno;Částka;Barva\r\nJana;100;modrá\r\n").headers["Location"]
    english = c.get(url + "?lang=en").text
    assert 'Line 1 (header): A required column is missing: "Customer ID".' in english.replace("&#34;", '"')
    assert 'Line 1 (header): Unknown column: "Barva" (allowed columns: Customer ID, Name, ' in english.replace(
        "&#34;", '"'
    )
    assert "The file was not imported: Line 1 (header)" in english.replace("&#34;", '"')
    czech = c.get(url + "?lang=cs").text
    assert "Řádek 1 (záhlaví): Chybí povinný sloupec: „Zákaznické číslo“." in czech


def test_a_failed_import_says_it_failed(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    record = ObligationImport(
        service_id=service.id,
        filename="platci.csv",
        size=10,
        status=ImportStatus.FAILED,
        report={"summary": "Import selhal kvůli chybě serveru; nic nebylo importováno.", "error": "RuntimeError"},
    )
    db_session.add(record)
    db_session.commit()
    c = _client(app, "viewer", m)
    page = c.get(f"/admin/predpisy/importy/{record.id}").text
    assert "Import selhal kvůli chybě serveru" in page and "Importováno předpisů" not in page
    english = c.get(f"/admin/predpisy/importy/{record.id}?lang=en").text
    assert "The import failed because of a server error; nothing was imported." in english
