"""The operator's pages: pipeline, a municipality's history and state change, a new
municipality, the reports with downloads — and the guard in front of them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import db_session
from app.models import Municipality, MunicipalityStateChange, OnboardingState
from app.onboarding.pipeline import change_onboarding_state
from app.timeutil import prague_today
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality


def operator_headers(app, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log the client in as operator staff through the admin area's login (with TOTP)."""
    login(client, make_staff("operator", None))
    return {}


@pytest.fixture
def op(app, client):  # type: ignore[no-untyped-def]
    headers = operator_headers(app, client)

    class Op:
        def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
            return client.get(url, headers=headers, **kw)

        def post(self, url: str, **kw):  # type: ignore[no-untyped-def]
            return client.post(url, headers=headers, **kw)

    return Op()


def test_pages_refuse_anyone_else(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    for url in ("/admin/operator/", f"/admin/operator/obce/{m.id}", "/admin/operator/obce/nova",
                "/admin/operator/zpravy/mesicni", "/admin/operator/zpravy/mesicni/2025-12.csv",
                "/admin/operator/zpravy/rocni/2025.xlsx"):
        r = client.get(url)
        assert r.status_code == 302 and "/admin/login" in r.headers["Location"], url
    r = client.post(f"/admin/operator/obce/{m.id}/stav", data={"state": "left", "date": "2025-01-01"})
    assert r.status_code == 302
    assert db_session.get(Municipality, m.id).onboarding_state == OnboardingState.ACTIVE
    # Staff of a municipality, even its admin, are not the operator.
    login(client, make_staff("municipality_admin", m))
    assert client.get("/admin/operator/").status_code == 403
    assert client.get("/admin/operator/zpravy/mesicni/2025-12.csv").status_code == 403
    r = client.post(f"/admin/operator/obce/{m.id}/stav", data={"state": "left", "date": "2025-01-01"})
    assert r.status_code == 403
    assert db_session.get(Municipality, m.id).onboarding_state == OnboardingState.ACTIVE


def test_pipeline_counts_and_filter(op) -> None:  # type: ignore[no-untyped-def]
    make_municipality(name="Chrastava")
    make_municipality(name="Hejnice", onboarding_state=OnboardingState.INTERESTED)
    page = op.get("/admin/operator/")
    assert page.status_code == 200
    assert "Chrastava" in page.text and "Hejnice" in page.text
    filtered = op.get("/admin/operator/?stav=interested")
    # The list itself (the menu's municipality picker above it names every municipality).
    listed = filtered.text[filtered.text.index("<h1"):]
    assert "Hejnice" in listed and "Chrastava" not in listed
    assert op.get("/admin/operator/?stav=<script>&q=%27%22").status_code == 200


def test_change_state_with_date_and_note(op) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Osečná", onboarding_state=OnboardingState.NOT_CONTACTED)
    r = op.post(f"/admin/operator/obce/{m.id}/stav", data={"state": "interested", "date": "2025-03-04",
                                                          "note": "Starosta chce platby psů."})
    assert r.status_code == 303
    page = op.get(r.headers["Location"])
    assert "Starosta chce platby psů." in page.text and "4. 3. 2025" in page.text
    db_session.expire_all()
    assert db_session.get(Municipality, m.id).onboarding_state == "interested"

    # Bad input: a clear message, nothing written.
    cases = [
        ({"state": "active", "date": (prague_today() + timedelta(days=3)).isoformat()}, "budoucnosti"),
        ({"state": "active", "date": "2025-01-01"}, "poslední zaznamenané změně"),
        ({"state": "active", "date": "31. 12. 2025"}, "RRRR-MM-DD"),
        ({"state": "", "date": "2025-05-01"}, "Vyberte nový stav"),
        ({"state": "hacked", "date": "2025-05-01"}, "Neznámý stav"),
        ({"state": "interested", "date": "2025-05-01"}, "už v tomto stavu"),
        ({"state": "active", "date": "2025-05-01", "note": "x" * 2001}, "2000 znaků"),
    ]
    for data, message in cases:
        r = op.post(f"/admin/operator/obce/{m.id}/stav", data=data)
        assert r.status_code == 422 and message in r.text, data
        assert 'aria-invalid="true"' in r.text and 'id="error-summary"' in r.text
    n = db_session.scalars(select(MunicipalityStateChange).where(MunicipalityStateChange.municipality_id == m.id)).all()
    assert len(n) == 1
    assert op.get("/admin/operator/obce/999999").status_code == 404
    assert op.post("/admin/operator/obce/99999999999/stav", data={}).status_code == 404


def test_create_municipality(op) -> None:  # type: ignore[no-untyped-def]
    r = op.post("/admin/operator/obce/nova", data={"name": "Kryštofovo Údolí", "ico": "00672203", "district": "Liberec",
                                                  "state": "contacted", "date": "2025-02-03", "note": "Na veletrhu."})
    assert r.status_code == 303
    m = db_session.scalar(select(Municipality).where(Municipality.ico == "00672203"))
    assert m is not None and m.onboarding_state == "contacted" and m.slug == "krystofovo-udoli"
    changes = db_session.scalars(select(MunicipalityStateChange).where(MunicipalityStateChange.municipality_id == m.id)).all()
    assert [(c.to_state, c.effective_date, c.note) for c in changes] == [("contacted", date(2025, 2, 3), "Na veletrhu.")]

    for data, message in [
        ({"name": "", "ico": "00262978"}, "Vyplňte název obce"),
        ({"name": "Obec", "ico": "12345678"}, "IČO musí mít 8 číslic"),
        ({"name": "Obec", "ico": "abc"}, "IČO musí mít 8 číslic"),
        ({"name": "Obec", "ico": "00672203"}, "už v portálu"),
        ({"name": "Obec", "ico": "00262978", "date": "zítra"}, "RRRR-MM-DD"),
        ({"name": "Obec", "ico": "00262978", "state": "boss"}, "Neznámý stav"),
        ({"name": "O" * 201, "ico": "00262978"}, "200 znaků"),
    ]:
        form = {"district": "Liberec", "state": "contacted", "date": "2025-02-03", **data}
        r = op.post("/admin/operator/obce/nova", data=form)
        assert r.status_code == 422 and message in r.text, data
    assert db_session.scalar(select(Municipality).where(Municipality.ico == "00262978")) is None


def test_report_pages_and_downloads(op) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Frýdlant", onboarding_state=OnboardingState.NOT_CONTACTED)
    change_onboarding_state(m, OnboardingState.ACTIVE, date(2025, 12, 1))
    db_session.commit()
    page = op.get("/admin/operator/zpravy/mesicni?obdobi=2025-12")
    assert page.status_code == 200
    assert "Frýdlant" in page.text and "<svg" in page.text and "22. 1. 2026" in page.text
    for fmt in ("pdf", "xlsx", "csv", "html"):
        assert f"/admin/operator/zpravy/mesicni/2025-12.{fmt}" in page.text
    pdf = op.get("/admin/operator/zpravy/mesicni/2025-12.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "attachment" in pdf.headers["Content-Disposition"]
    load_workbook(io.BytesIO(op.get("/admin/operator/zpravy/mesicni/2025-12.xlsx").data))
    rows = list(csv.reader(io.StringIO(op.get("/admin/operator/zpravy/mesicni/2025-12.csv").data.decode("utf-8-sig")),
                           delimiter=";"))
    assert ["souhrn", "Připojené obce (aktivní)", "", "1", "", "0", "", "0", ""] in rows
    yearly = op.get("/admin/operator/zpravy/rocni?rok=2025")
    assert yearly.status_code == 200 and "Stav k 31. 12. 2025" in yearly.text
    assert op.get("/admin/operator/zpravy/rocni/2025.csv").status_code == 200
    assert op.get("/admin/operator/zpravy/mesicni?obdobi=2025-13").status_code == 400
    assert op.get("/admin/operator/zpravy/rocni?rok=dva").status_code == 400
    assert op.get("/admin/operator/zpravy/mesicni/2025-12.exe").status_code == 404
    assert op.get("/admin/operator/zpravy/rocni/1999.csv").status_code == 404


def test_new_municipality_with_an_invitation_for_its_first_admin(app, client) -> None:  # type: ignore[no-untyped-def]
    from app.models import StaffInvitation, StaffUser

    op_headers = operator_headers(app, client)
    operator = db_session.scalar(select(StaffUser).where(StaffUser.role == "operator"))
    r = client.post("/admin/operator/obce/nova", headers=op_headers, data={
        "name": "Bílý Potok", "ico": "00262871", "district": "Liberec", "state": "contract_signed",
        "date": "2025-09-01", "note": "Smlouva podepsána.", "admin_email": "starosta@bilypotok.cz",
        "admin_name": "Jan Starosta"})
    assert r.status_code == 303, r.text
    m = db_session.scalar(select(Municipality).where(Municipality.ico == "00262871"))
    inv = db_session.scalar(select(StaffInvitation).where(StaffInvitation.email == "starosta@bilypotok.cz"))
    assert inv is not None and inv.municipality_id == m.id and inv.role == "municipality_admin"
    page = client.get(r.headers["Location"], headers=op_headers)
    assert "starosta@bilypotok.cz" in page.text  # the flash message
    change = db_session.scalar(select(MunicipalityStateChange).where(MunicipalityStateChange.municipality_id == m.id))
    assert change.staff_id == operator.id and operator.name in page.text
    bad = client.post("/admin/operator/obce/nova", headers=op_headers, data={
        "name": "Obec", "ico": "00262978", "district": "Liberec", "state": "contacted", "date": "2025-09-01",
        "admin_email": "bez-zavinace"})
    assert bad.status_code == 422 and "platný e-mail" in bad.text


@pytest.mark.parametrize("address", ["starosta@obec", "a b@obec.cz", "<x>@obec.cz", "x@@obec.cz"])
def test_first_admin_email_is_checked_by_the_one_validator(app, client, address) -> None:  # type: ignore[no-untyped-def]
    # "@" alone was once enough; the address goes into an invitation e-mail's header.
    op_headers = operator_headers(app, client)
    bad = client.post("/admin/operator/obce/nova", headers=op_headers, data={
        "name": "Obec", "ico": "00262978", "district": "Liberec", "state": "contacted", "date": "2025-09-01",
        "admin_email": address})
    assert bad.status_code == 422 and "platný e-mail" in bad.text
    assert db_session.scalar(select(Municipality).where(Municipality.ico == "00262978")) is None
