"""Issue 16, several regions on one deployment: the second region's seed, region homes
at /kraj/<slug> and on a mapped host, the national home's region list and search of all
municipalities, pages branded by their region, the operator's region settings (audited,
the colour's contrast checked), and per-region reports that add up to the national one."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.db import db_session
from app.demo_data import FICTIONAL_MUNICIPALITIES, seed_demo_second_region
from app.identifiers import is_valid_ico
from app.models import AuditLog, Municipality, OnboardingState, PaymentState, Region, Service, ServiceStateChange
from app.onboarding.pipeline import change_onboarding_state
from app.payments.transitions import transition_payment
from app.regions.settings import contrast_with_white
from app.reporting import dispatch
from app.reporting.monthly import build_monthly_report
from app.reporting.yearly import build_yearly_indicators
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality, make_payment, make_region, make_service


def _two_regions():  # type: ignore[no-untyped-def]
    lbc, hk = make_region("liberecky-kraj"), make_region("kralovehradecky-kraj")
    a = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou", region_id=lbc.id)
    b = make_municipality(name="Vzorová Lhota", slug="vzorova-lhota", region_id=hk.id)
    make_service(a, name="Poplatek za psa")
    make_service(b, name="Poplatek za odpad")
    return lbc, hk, a, b


def test_the_second_region_is_seeded_with_fictional_municipalities(app) -> None:  # type: ignore[no-untyped-def]
    counts = seed_demo_second_region()
    assert counts == {"municipalities": 3, "services": 6}
    assert seed_demo_second_region() == {"municipalities": 0, "services": 0}  # idempotent
    hk = db_session.scalar(select(Region).where(Region.slug == "kralovehradecky-kraj"))
    rows = db_session.scalars(select(Municipality).where(Municipality.region_id == hk.id)).all()
    assert len(rows) == 3 and all(m.onboarding_state == OnboardingState.ACTIVE for m in rows)
    assert all("fiktivní" in m.name and m.district == "Fiktivní okres" and is_valid_ico(m.ico) for m in rows)
    assert {m.ico for m in rows} == {ico for _n, _s, ico in FICTIONAL_MUNICIPALITIES}
    assert contrast_with_white(hk.primary_color) >= 4.5


def test_region_home_lists_only_its_municipalities(app, client) -> None:  # type: ignore[no-untyped-def]
    _lbc, _hk, a, b = _two_regions()
    page = client.get("/kraj/kralovehradecky-kraj").text
    assert f">{b.name}<" in page and f">{a.name}<" not in page
    assert "obcí Královéhradeckého kraje" in page  # the header says whose portal it is
    page = client.get("/kraj/liberecky-kraj?q=vzorova").text
    assert f">{b.name}<" not in page  # a region's search stays in the region
    assert client.get("/kraj/neexistuje").status_code == 404
    assert client.get("/kraj/" + "x" * 300).status_code == 404


def test_national_home_lists_regions_and_searches_all(app, client) -> None:  # type: ignore[no-untyped-def]
    _lbc, _hk, a, b = _two_regions()
    make_municipality(name="Česká Ves", slug="ceska-ves", region_id=b.region_id)
    page = re.sub(r"\s+", " ", client.get("/").text)
    assert ">Královéhradecký kraj<" in page and ">Liberecký kraj<" in page
    assert "2 zapojené obce" in page and "1 zapojená obec" in page
    assert f">{a.name}<" not in page  # the regions, not thousands of municipalities
    # The search covers every region, without diacritics, in Czech order (Č after C, H…).
    found = client.get("/?q=a").text
    names = [n for n in ("Česká Ves", "Hrádek nad Nisou", "Vzorová Lhota") if f">{n}<" in found]
    assert names == ["Česká Ves", "Hrádek nad Nisou", "Vzorová Lhota"]
    assert [found.index(f">{n}<") for n in names] == sorted(found.index(f">{n}<") for n in names)
    assert "Liberecký kraj ·" in found and "Královéhradecký kraj ·" in found
    assert f">{a.name}<" in client.get("/?q=hradek").text and f">{b.name}<" not in client.get("/?q=hradek").text
    assert client.get("/kraje").status_code == 200


def test_a_mapped_host_shows_its_region_and_brands_every_page(app) -> None:  # type: ignore[no-untyped-def]
    _lbc, hk, a, b = _two_regions()
    app.config["REGION_HOSTS"] = "platby.kraj-hk.example=kralovehradecky-kraj"
    client = app.test_client()
    page = client.get("/", base_url="http://platby.kraj-hk.example").text
    assert f">{b.name}<" in page and f">{a.name}<" not in page and "obcí Královéhradeckého kraje" in page
    # Another region's municipality keeps its URL and its own region's brand on that host.
    page = client.get(f"/obec/{a.slug}", base_url="http://platby.kraj-hk.example").text
    assert "obcí Libereckého kraje" in page and "Královéhradeckého" not in page
    # A page of no municipality (the terms) wears the host's brand; the default host the national one.
    assert (
        "obcí Královéhradeckého kraje"
        in client.get("/obchodni-podminky", base_url="http://platby.kraj-hk.example").text
    )
    assert "obcí všech krajů" in client.get("/obchodni-podminky").text
    # The region's own host name (Region.host) maps as well.
    lbc = db_session.get(Region, a.region_id)
    lbc.host = "platby.kraj-lbc.example"
    db_session.commit()
    page = client.get("/", base_url="http://platby.kraj-lbc.example:8080").text
    assert f">{a.name}<" in page and f">{b.name}<" not in page
    assert hk.slug in client.get("/?lang=en", base_url="http://platby.kraj-hk.example").text


def test_branding_colour_logo_and_footer(app, client) -> None:  # type: ignore[no-untyped-def]
    _lbc, hk, _a, b = _two_regions()
    hk.primary_color, hk.logo_url = "#7a2e0e", "/static/favicon.svg"
    hk.footer_text, hk.contact_email = "Provozuje Krajská agentura (ukázka).", "portal@kraj-hk.example"
    db_session.commit()
    page = client.get(f"/obec/{b.slug}").text
    assert "--blue: #7a2e0e" in page and 'src="/static/favicon.svg"' in page
    assert "Provozuje Krajská agentura (ukázka)." in page and "mailto:portal@kraj-hk.example" in page
    page = client.get("/").text
    assert "#7a2e0e" not in page and "Krajská agentura" not in page
    # The Liberec Region's footer stays translated in English.
    liberec_page = client.get("/kraj/liberecky-kraj?lang=en").text
    assert "Run by the Regional Development Agency of the Liberec Region." in liberec_page


@pytest.fixture
def hk_operator(app):  # type: ignore[no-untyped-def]
    _lbc, hk, _a, b = _two_regions()
    user = make_staff("operator", None, region=hk, email="op-hk@example.cz")
    client = app.test_client()
    login(client, user)
    return client, hk, b


def test_operator_edits_the_regions_settings_with_an_audit_row(app, hk_operator) -> None:  # type: ignore[no-untyped-def]
    client, hk, b = hk_operator
    assert "Královéhradecký kraj" in client.get("/admin/operator/kraj").text
    form = {
        "name_genitive": "Královéhradeckého kraje",
        "operator_name": "Agentura HK",
        "contact_email": "a@hk.example",
        "contact_phone": "+420 495 000 000",
        "web_url": "https://hk.example",
        "footer_text": "",
        "logo_url": "",
        "primary_color": "#FFCC00",
        "report_recipients": "x@hk.example",
    }
    r = client.post("/admin/operator/kraj", data=form)
    assert r.status_code == 422 and "kontrast jen" in r.text  # yellow: white text unreadable
    db_session.expire_all()
    assert db_session.get(Region, hk.id).primary_color == "#2362a2"
    assert client.post("/admin/operator/kraj", data={**form, "primary_color": "modrá"}).status_code == 422
    assert client.post("/admin/operator/kraj", data={**form, "contact_email": "x@"}).status_code == 422
    assert client.post("/admin/operator/kraj", data={**form, "logo_url": "javascript:alert(1)"}).status_code == 422
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "region_settings")) is None
    r = client.post(
        "/admin/operator/kraj",
        data={**form, "primary_color": "#1F4E79", "report_recipients": "x@hk.example; y@hk.example"},
    )
    assert r.status_code == 303
    db_session.expire_all()
    region = db_session.get(Region, hk.id)
    assert (region.primary_color, region.operator_name, region.recipients) == (
        "#1f4e79",
        "Agentura HK",
        ["x@hk.example", "y@hk.example"],
    )
    row = db_session.scalar(select(AuditLog).where(AuditLog.action == "region_settings"))
    assert row.before["primary_color"] == "#2362a2" and row.after["primary_color"] == "#1f4e79"
    page = app.test_client().get(f"/obec/{b.slug}").text
    assert "--blue: #1f4e79" in page and "Provozuje Agentura HK." in page
    # The audit entry is the region's: its operator sees it.
    assert "a@hk.example" in client.get("/admin/audit").text or "Agentura HK" in client.get("/admin/audit").text


def _paid(service: Service, amount: int, when: datetime) -> None:
    p = make_payment(service, amount=amount)
    transition_payment(p, PaymentState.STARTED, reason="t")
    transition_payment(p, PaymentState.PAID, reason="t")
    p.paid_at = when
    db_session.commit()


def test_per_region_reports_add_up_to_the_national_one(app) -> None:  # type: ignore[no-untyped-def]
    from app.reporting.summary import rebuild_payment_summary

    lbc, hk = make_region("liberecky-kraj"), make_region("kralovehradecky-kraj")
    services = {}
    for region, name in ((lbc, "Chrastava"), (hk, "Ukázkov"), (hk, "Pokusná Ves")):
        m = make_municipality(name=name, region_id=region.id, onboarding_state=OnboardingState.NOT_CONTACTED)
        change_onboarding_state(m, OnboardingState.ACTIVE, date(2025, 11, 3), note="smlouva")
        db_session.commit()
        services[name] = make_service(m, amount=30_000)
        db_session.add(ServiceStateChange(service_id=services[name].id, active=True, effective_date=date(2025, 11, 3)))
        db_session.commit()
    make_municipality(name="Zájemce", region_id=hk.id, onboarding_state=OnboardingState.INTERESTED)
    _paid(services["Chrastava"], 30_000, datetime(2025, 12, 3, 10, tzinfo=UTC))
    _paid(services["Ukázkov"], 50_000, datetime(2025, 12, 4, 10, tzinfo=UTC))
    _paid(services["Pokusná Ves"], 70_000, datetime(2025, 12, 5, 10, tzinfo=UTC))
    _paid(services["Pokusná Ves"], 20_000, datetime(2025, 7, 5, 10, tzinfo=UTC))
    rebuild_payment_summary()
    national = build_monthly_report(2025, 12)
    per_region = [build_monthly_report(2025, 12, region_id=r.id) for r in (lbc, hk)]
    assert national.region is None and [r.region.name for r in per_region] == ["Liberecký kraj", "Královéhradecký kraj"]
    assert [r.total.current.count for r in per_region] == [1, 2]
    assert sum(r.total.current.count for r in per_region) == national.total.current.count == 3
    assert sum(r.total.current.volume for r in per_region) == national.total.current.volume == 150_000
    assert [len(r.joined) for r in per_region] == [1, 2] and len(national.joined) == 3
    assert sum(r.active_services for r in per_region) == national.active_services == 3
    assert {ln.label for ln in per_region[0].by_municipality} == {"Chrastava"}
    assert (
        sum(
            r.snapshots["current"].counts["not_contacted"] + r.snapshots["current"].counts["interested"]
            for r in per_region
        )
        == 1
    )
    years = [build_yearly_indicators(2025, region_id=r.id) for r in (lbc, hk)]
    whole = build_yearly_indicators(2025)
    assert [y.year_total.count for y in years] == [1, 3] and whole.year_total.count == 4
    assert sum(y.year_total.volume for y in years) == whole.year_total.volume == 170_000
    assert sum(y.year_end.joined for y in years) == whole.year_end.joined == 3


def test_each_regions_report_goes_to_its_operators_and_recipients(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lbc, hk, _a, _b = _two_regions()
    hk.report_recipients = "hejtman@hk.example"
    db_session.commit()
    make_staff("operator", None, region=lbc, email="op-lbc@example.cz")
    make_staff("operator", None, region=hk, email="op-hk@example.cz")
    make_staff("national", None, email="narodni@example.cz")
    sent = []
    monkeypatch.setattr(dispatch, "deliver", lambda msg: sent.append(msg))
    monkeypatch.setattr(dispatch, "mail_configured", lambda: True)
    app.config.update(REPORT_RECIPIENTS=["stat@example.cz"])
    assert dispatch.send_due_monthly_report(date(2026, 1, 2)) == "sent"
    by_to = {m["To"]: m["Subject"] for m in sent}
    assert by_to == {
        "op-lbc@example.cz": "Měsíční zpráva o Platebním portálu – prosinec 2025 – Liberecký kraj",
        "hejtman@hk.example, op-hk@example.cz": "Měsíční zpráva o Platebním portálu – prosinec 2025 – Královéhradecký kraj",
        "narodni@example.cz, stat@example.cz": "Měsíční zpráva o Platebním portálu – prosinec 2025",
    }
    assert dispatch.send_due_monthly_report(date(2026, 1, 5)) == "already_sent" and len(sent) == 3


def test_the_operator_report_pages_are_the_regions(app, hk_operator) -> None:  # type: ignore[no-untyped-def]
    client, _hk, _b = hk_operator
    page = client.get("/admin/operator/zpravy/mesicni?obdobi=2025-12").text
    assert "Královéhradecký kraj" in page and "Hrádek nad Nisou" not in page
    csv_body = client.get("/admin/operator/zpravy/mesicni/2025-12.csv").text
    assert "Královéhradecký kraj" in csv_body and "Hrádek nad Nisou" not in csv_body
    page = client.get("/admin/operator/zpravy/rocni?rok=2025").text
    assert "Roční ukazatele 2025 – Královéhradecký kraj" in page


def test_an_invited_operator_joins_the_inviters_region(app) -> None:  # type: ignore[no-untyped-def]
    from app.staff.accounts import StaffError
    from app.staff.invitations import accept_invitation, invite_staff

    lbc, hk, a, b = _two_regions()
    op = make_staff("operator", None, region=hk, email="op-hk@example.cz")
    with app.test_request_context():
        link = invite_staff(op, "novy@hk.example", "operator", None).link
        with pytest.raises(StaffError):  # another region's municipality
            invite_staff(op, "clerk@lbc.example", "clerk", a.id)
        national = make_staff("national", None, email="narodni@example.cz")
        link_lbc = invite_staff(national, "novy@lbc.example", "operator", None, region_id=lbc.id).link
        with pytest.raises(StaffError):  # an operator needs a region
            invite_staff(national, "bez@kraje.example", "operator", None)
    user = accept_invitation(link.rsplit("/", 1)[1], "Nový Operátor", "dlouhe-heslo-123456")
    assert (user.role, user.region_id, user.municipality_id) == ("operator", hk.id, None)
    user = accept_invitation(link_lbc.rsplit("/", 1)[1], "Nová Operátorka", "dlouhe-heslo-123456")
    assert user.region_id == lbc.id
    assert b.region_id == hk.id


def test_seed_demo_prints_the_second_region_and_every_demo_login(app) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    out = runner.invoke(args=["seed-demo", "--active", "3", "--no-payments"])
    assert out.exit_code == 0, out.output
    assert "3 fictional municipalities and 6 services" in out.output
    out = runner.invoke(args=["staff", "seed-demo"])
    assert out.exit_code == 0, out.output
    for email in ("operator@demo.example.cz", "operator-hk@demo.example.cz", "narodni@demo.example.cz"):
        assert email in out.output
    assert "Královéhradecký kraj" in out.output
