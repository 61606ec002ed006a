"""Every admin route, walked from the app's URL map: anonymous → login, lesser role →
403, another municipality's object → 404, another region's object → 404 for an operator;
national staff reach every region. A new route without a row here fails.

The two sides live in two regions (Liberecký and Královéhradecký kraj), each with its
own operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import select

from app.api.keys import create_api_key
from app.banking.accounts import create_account
from app.db import db_session
from app.gateway_accounts.accounts import AccountInput, save_account
from app.models import (
    ROLE_RANK,
    BankLine,
    BankStatement,
    ExportJob,
    ExportStatus,
    ImportStatus,
    NoticeBatch,
    Obligation,
    ObligationImport,
    StaffRole,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality, make_payment, make_region, make_service

PUBLIC = "public"
# endpoint → (least role, kind of object in the URL)
ROUTES: dict[str, tuple[str, str | None]] = {
    "admin.login": (PUBLIC, None),
    "admin.login_totp": (PUBLIC, None),
    "admin.enrol_totp": (PUBLIC, None),
    "admin.accept_invitation": (PUBLIC, "token"),
    "admin.forgot_password": (PUBLIC, None),
    "admin.reset_password": (PUBLIC, "token"),
    "admin.logout": (StaffRole.VIEWER, None),
    "admin.dashboard": (StaffRole.VIEWER, None),
    "admin.select_municipality": (StaffRole.OPERATOR, None),
    "admin.select_region": (StaffRole.NATIONAL, None),
    "admin.settings": (StaffRole.MUNICIPALITY_ADMIN, "municipality"),
    "admin.services": (StaffRole.VIEWER, None),
    "admin.service_new": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.service_edit": (StaffRole.MUNICIPALITY_ADMIN, "service"),
    "admin.service_deactivate": (StaffRole.MUNICIPALITY_ADMIN, "service"),
    "admin.service_preview": (StaffRole.VIEWER, "service"),
    "admin.obligations": (StaffRole.VIEWER, "service"),
    "admin.obligation_upload": (StaffRole.MUNICIPALITY_ADMIN, "service"),
    "admin.obligation_import": (StaffRole.VIEWER, "obligation_import"),
    "admin.erase_payer": (StaffRole.MUNICIPALITY_ADMIN, "obligation"),
    "admin.payments": (StaffRole.VIEWER, None),
    "admin.payment_detail": (StaffRole.VIEWER, "payment"),
    "admin.payment_refund": (StaffRole.CLERK, "payment"),
    "admin.payment_refund_sent": (StaffRole.CLERK, "payment"),
    "admin.payments_export": (StaffRole.VIEWER, None),
    "admin.export_status": (StaffRole.VIEWER, "export"),
    "admin.export_download": (StaffRole.VIEWER, "export"),
    "admin.team": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.team_invite": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.team_role": (StaffRole.MUNICIPALITY_ADMIN, "staff"),
    "admin.team_deactivate": (StaffRole.MUNICIPALITY_ADMIN, "staff"),
    "admin.audit_log": (StaffRole.OPERATOR, None),
    "admin.bank_statements": (StaffRole.VIEWER, None),
    "admin.bank_upload": (StaffRole.CLERK, None),
    "admin.bank_statement": (StaffRole.VIEWER, "bank_statement"),
    "admin.bank_accounts": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.bank_account_token": (StaffRole.MUNICIPALITY_ADMIN, "bank_account"),
    "admin.bank_account_pull": (StaffRole.CLERK, "bank_account"),
    "admin.bank_unmatched": (StaffRole.VIEWER, None),
    "admin.bank_line": (StaffRole.VIEWER, "bank_line"),
    "admin.bank_line_match": (StaffRole.CLERK, "bank_line"),
    "admin.bank_line_undo": (StaffRole.CLERK, "bank_line"),
    "admin.bank_line_return": (StaffRole.CLERK, "bank_line"),
    "admin.bank_returns": (StaffRole.VIEWER, None),
    "admin.bank_returns_csv": (StaffRole.VIEWER, None),
    "operator.banking": (StaffRole.OPERATOR, None),
    "admin.gateway_accounts": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.gateway_account_new": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.gateway_account_edit": (StaffRole.MUNICIPALITY_ADMIN, "gateway_account"),
    "admin.gateway_account_deactivate": (StaffRole.MUNICIPALITY_ADMIN, "gateway_account"),
    "admin.gateway_account_test": (StaffRole.MUNICIPALITY_ADMIN, "gateway_account"),
    "admin.api_keys": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.api_key_revoke": (StaffRole.MUNICIPALITY_ADMIN, "api_key"),
    "admin.webhooks": (StaffRole.MUNICIPALITY_ADMIN, None),
    "admin.paylinks_csv": (StaffRole.CLERK, "service"),
    "admin.notices_start": (StaffRole.CLERK, "service"),
    "admin.notices_status": (StaffRole.CLERK, "notice_batch"),
    "admin.notices_download": (StaffRole.CLERK, "notice_batch"),
    "admin.webhook_detail": (StaffRole.MUNICIPALITY_ADMIN, "webhook"),
    "admin.webhook_toggle": (StaffRole.MUNICIPALITY_ADMIN, "webhook"),
    "admin.webhook_test": (StaffRole.MUNICIPALITY_ADMIN, "webhook"),
    "admin.webhook_redeliver": (StaffRole.MUNICIPALITY_ADMIN, "webhook_delivery"),
    "operator.pipeline": (StaffRole.OPERATOR, None),
    "operator.new_municipality": (StaffRole.OPERATOR, None),
    "operator.municipality": (StaffRole.OPERATOR, "operator_municipality"),
    "operator.change_state": (StaffRole.OPERATOR, "operator_municipality"),
    "operator.monthly": (StaffRole.OPERATOR, None),
    "operator.monthly_download": (StaffRole.OPERATOR, "monthly_report"),
    "operator.yearly": (StaffRole.OPERATOR, None),
    "operator.yearly_download": (StaffRole.OPERATOR, "yearly_report"),
    "operator.region_settings": (StaffRole.OPERATOR, None),
}
OVER = (StaffRole.OPERATOR, StaffRole.NATIONAL)
# Kinds that name no object of a side (the same URL for every region: its content is scoped).
NOT_OBJECTS = (None, "token", "monthly_report", "yearly_report")
ROLES_BY_RANK = sorted(ROLE_RANK, key=ROLE_RANK.__getitem__)


def admin_rules(app):  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith(("admin.", "operator."))]


def methods(rule) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


@dataclass
class Side:
    municipality: object
    objects: dict[str, dict[str, object]]
    users: dict[str, object]


def _side(tag: str, tmp_path, region_slug: str) -> Side:  # type: ignore[no-untyped-def]
    region = make_region(region_slug)
    m = make_municipality(name=f"Obec {tag}", region_id=region.id)
    service = make_service(m)
    payment = make_payment(service, state="paid", gateway_reference=f"ref-{tag}")
    users = {role: make_staff(role, m, email=f"{role}-{tag}@example.cz")
             for role in ROLES_BY_RANK if role not in OVER}
    users[StaffRole.OPERATOR] = make_staff("operator", None, email=f"operator-{tag}@example.cz", region=region)
    target = make_staff("viewer", m, email=f"target-{tag}@example.cz")
    path = tmp_path / f"export-{tag}.csv"
    path.write_text("x")
    export = ExportJob(staff_id=users["viewer"].id, municipality_id=m.id, format="csv",
                       status=ExportStatus.DONE, file_path=str(path), row_count=1)
    db_session.add(export)
    obligation_import = ObligationImport(service_id=service.id, filename=f"predpisy-{tag}.csv", content=b"",
                                         size=0, status=ImportStatus.DONE, report={"summary": "ok", "errors": []})
    db_session.add(obligation_import)
    bank_account = create_account(m.id, "19-2000145399/0800" if tag == "a" else "2801234578/2010")
    statement = BankStatement(account_id=bank_account.id, municipality_id=m.id, source="upload", source_format="gpc")
    db_session.add(statement)
    db_session.flush()
    line = BankLine(account_id=bank_account.id, municipality_id=m.id, statement_id=statement.id, dedup_key=f"id:{tag}",
                    booking_date=date(2026, 11, 2), amount=100000, currency="CZK", kind="credit",
                    variable_symbol="77", status="unmatched", rule="unknown_vs")
    db_session.add(line)
    obligation = Obligation(municipality_id=m.id, service_id=service.id, customer_id=f"C-{tag}", payer_name="Plátce",
                            amount=10000)
    db_session.add(obligation)
    api_key, _secret = create_api_key(m.id, f"klic-{tag}", ["read"])
    # An endpoint nobody listens on: its deliveries fail fast and stay in the log.
    hook = WebhookEndpoint(municipality_id=m.id, url="http://127.0.0.1:9/", secret="s", events=["payment.paid"])
    db_session.add(hook)
    db_session.flush()
    hook_delivery = WebhookDelivery(endpoint_id=hook.id, municipality_id=m.id, event_id=f"evt_{tag}",
                                    event_type="ping", body="{}", status="failed")
    db_session.add(hook_delivery)
    notices_path = tmp_path / f"vyzvy-{tag}.pdf"
    notices_path.write_bytes(b"%PDF-1.7")
    notice_batch = NoticeBatch(municipality_id=m.id, service_id=service.id, order_by="customer_id", status="done",
                               file_path=str(notices_path))
    db_session.add(notice_batch)
    db_session.commit()
    account, _errors = save_account(
        AccountInput("btcpay", f"BTCPay {tag}", "sandbox", {"url": "http://127.0.0.1:9", "store_id": f"store{tag}",
                                                            "api_key": "k", "webhook_secret": "w"}),
        m,
    )
    db_session.commit()  # the service flushes; the request (here the test) commits
    objects = {
        "webhook": {"endpoint_id": hook.id},
        "notice_batch": {"batch_id": notice_batch.id},
        "webhook_delivery": {"delivery_id": hook_delivery.id},
        "api_key": {"key_id": api_key.id},
        "bank_account": {"account_id": bank_account.id},
        "bank_statement": {"statement_id": statement.id},
        "bank_line": {"line_id": line.id},
        "municipality": {"municipality_id": m.id},
        "service": {"service_id": service.id},
        "payment": {"external_id": payment.external_id},
        "export": {"export_id": export.id},
        "obligation_import": {"import_id": obligation_import.id},
        "obligation": {"service_id": service.id, "obligation_id": obligation.id},
        "staff": {"staff_id": target.id},
        "token": {"token": "neplatny-token"},
        "operator_municipality": {"mid": m.id},
        "gateway_account": {"account_id": account.id},
        "monthly_report": {"period": "2025-12", "fmt": "csv"},
        "yearly_report": {"year": 2025, "fmt": "csv"},
    }
    return Side(m, objects, users)


@pytest.fixture
def world(app, tmp_path):  # type: ignore[no-untyped-def]
    a = _side("a", tmp_path, "liberecky-kraj")
    b = _side("b", tmp_path, "kralovehradecky-kraj")
    operator = a.users[StaffRole.OPERATOR]
    national = make_staff("national", None, email="national@example.cz")
    clients = {}

    def client_for(user):  # type: ignore[no-untyped-def]
        if user.id not in clients:
            c = app.test_client()
            login(c, user)
            clients[user.id] = c
        return clients[user.id]

    return {"a": a, "b": b, "operator": operator, "national": national, "client_for": client_for}


def _url(app, endpoint: str, side: Side) -> str:
    _role, kind = ROUTES[endpoint]
    with app.test_request_context():
        return url_for(endpoint, **(side.objects[kind] if kind else {}))


def _call(client, method: str, url: str):  # type: ignore[no-untyped-def]
    return client.open(url, method=method, data={"format": "csv", "role": "viewer", "active": "0",
                                                  "amount": "1", "reason": "test"})


def test_the_table_names_every_admin_route(app):  # type: ignore[no-untyped-def]
    endpoints = {r.endpoint for r in admin_rules(app)}
    assert endpoints == set(ROUTES), f"routes missing from the table: {endpoints - set(ROUTES)}; stale: {set(ROUTES) - endpoints}"
    for endpoint, (role, _kind) in ROUTES.items():
        declared = getattr(app.view_functions[endpoint], "required_role", PUBLIC)
        assert declared == role, f"{endpoint}: guard says {declared}, table says {role}"


def test_anonymous_is_sent_to_the_login(app, world):  # type: ignore[no-untyped-def]
    client = app.test_client()
    for rule in admin_rules(app):
        role, _kind = ROUTES[rule.endpoint]
        if role == PUBLIC:
            continue
        url = _url(app, rule.endpoint, world["a"])
        for method in methods(rule):
            r = _call(client, method, url)
            assert r.status_code == 302, (method, url, r.status_code)
            assert r.headers["Location"].startswith("/admin/login"), (method, url)


def test_public_routes_answer_without_login(app, world):  # type: ignore[no-untyped-def]
    client = app.test_client()
    for rule in admin_rules(app):
        if ROUTES[rule.endpoint][0] != PUBLIC or "GET" not in rule.methods:
            continue
        r = client.get(_url(app, rule.endpoint, world["a"]))
        assert r.status_code in (200, 302, 410), (rule.endpoint, r.status_code)


def test_a_lesser_role_gets_403(app, world):  # type: ignore[no-untyped-def]
    side = world["a"]
    checked = 0
    for rule in admin_rules(app):
        role, _kind = ROUTES[rule.endpoint]
        if role == PUBLIC:
            continue
        url = _url(app, rule.endpoint, side)
        for lesser in ROLES_BY_RANK[: ROLE_RANK[role] - 1]:
            client = world["client_for"](side.users[lesser])
            for method in methods(rule):
                r = _call(client, method, url)
                assert r.status_code == 403, (lesser, method, url, r.status_code)
                checked += 1
    assert checked > 30
    # Nothing was changed by the refused requests.
    db_session.expire_all()
    assert all(u.active for u in side.users.values())


def test_another_municipalitys_object_is_404(app, world):  # type: ignore[no-untyped-def]
    checked = 0
    for rule in admin_rules(app):
        role, kind = ROUTES[rule.endpoint]
        if role in (PUBLIC, *OVER) or kind in (None, "token"):
            continue
        url = _url(app, rule.endpoint, world["a"])  # A's object…
        for outsider_role in ROLES_BY_RANK[ROLE_RANK[role] - 1:]:
            if outsider_role in OVER:
                continue
            client = world["client_for"](world["b"].users[outsider_role])  # …asked for by B's staff
            for method in methods(rule):
                r = _call(client, method, url)
                assert r.status_code == 404, (outsider_role, method, url, r.status_code)
                checked += 1
    assert checked >= 15


def test_own_objects_open_for_the_right_role(app, world):  # type: ignore[no-untyped-def]
    """The matrix can fail: the same URLs answer 200 to the right people."""
    side = world["a"]
    for rule in admin_rules(app):
        role, kind = ROUTES[rule.endpoint]
        if role == PUBLIC or "GET" not in rule.methods:
            continue
        url = _url(app, rule.endpoint, side)
        if role == StaffRole.NATIONAL:
            user = world["national"]
        elif role == StaffRole.OPERATOR:
            user = world["operator"]
        elif kind == "export":
            user = side.users["viewer"]  # an export is its creator's
        else:
            user = side.users[role]
        r = world["client_for"](user).get(url)
        assert r.status_code == 200, (rule.endpoint, user.role, r.status_code)
        # The operator sees every municipality's objects of their region.
        if kind and kind != "export":
            assert world["client_for"](world["operator"]).get(url).status_code == 200, rule.endpoint


def test_crafted_ids_and_wrong_methods(app, world):  # type: ignore[no-untyped-def]
    client = world["client_for"](world["a"].users["municipality_admin"])
    for url in ["/admin/platby/neexistuje", "/admin/platby/" + "a" * 500, "/admin/sluzby/999999/upravit",
                "/admin/sluzby/99999999999999999999/nahled", "/admin/tym/999999/role", "/admin/exporty/0",
                "/admin/obec/999999/nastaveni", "/admin/platby/%00%27/vratit"]:
        method = "POST" if url.endswith(("/role", "/vratit")) else "GET"
        r = client.open(url, method=method, data={"role": "viewer"})
        assert r.status_code == 404, (url, r.status_code)
    assert client.get("/admin/platby", query_string={"payer": "a\x00b"}).status_code == 400
    assert app.test_client().post("/admin/login", data={"email": "a\x00@x.cz", "password": "x"}).status_code == 400
    assert client.get("/admin/logout").status_code == 405
    assert client.get(_url(app, "admin.payment_refund", world["a"])).status_code == 405
    assert client.delete("/admin/sluzby").status_code == 405
    # A non-numeric operator choice never crashes.
    op = world["client_for"](world["operator"])
    assert op.post("/admin/obec/vybrat", data={"municipality_id": "x'; drop"}).status_code == 404


def test_another_regions_object_is_404_for_an_operator(app, world):  # type: ignore[no-untyped-def]
    """Every operator-reachable route naming an object: B's operator asking for A's → 404,
    and nothing of A's changed."""
    a, b = world["a"], world["b"]
    outsider = world["client_for"](b.users[StaffRole.OPERATOR])
    checked = set()
    for rule in admin_rules(app):
        role, kind = ROUTES[rule.endpoint]
        if role in (PUBLIC, StaffRole.NATIONAL) or kind in NOT_OBJECTS:
            continue
        url = _url(app, rule.endpoint, a)
        for method in methods(rule):
            r = _call(outsider, method, url)
            assert r.status_code == 404, (rule.endpoint, method, url, r.status_code)
            checked.add(rule.endpoint)
    assert len(checked) >= 35, checked
    db_session.expire_all()
    assert all(u.active for u in a.users.values())
    assert all(u.role == "viewer" for k, u in a.users.items() if k == "viewer")


def test_national_staff_reach_both_regions(app, world):  # type: ignore[no-untyped-def]
    national = world["client_for"](world["national"])
    reached = 0
    for side in (world["a"], world["b"]):
        for rule in admin_rules(app):
            role, kind = ROUTES[rule.endpoint]
            if role == PUBLIC or "GET" not in rule.methods or kind in (*NOT_OBJECTS, "export"):
                continue
            r = national.get(_url(app, rule.endpoint, side))
            assert r.status_code == 200, (rule.endpoint, r.status_code)
            reached += 1
    assert reached > 25
    for side in (world["a"], world["b"]):
        assert side.objects["payment"]["external_id"] in national.get("/admin/platby").text
        assert side.municipality.name in national.get("/admin/operator/").text


def test_operator_lists_show_only_their_region(app, world):  # type: ignore[no-untyped-def]
    """The routes without an object in the URL: lists, reports, the audit log, the pickers."""
    from app.db import db_session as s
    from app.models import Municipality

    a, b = world["a"], world["b"]
    op = world["client_for"](world["operator"])  # A's region
    b_name, a_name = b.municipality.name, a.municipality.name
    pages = {
        "/admin/": None, "/admin/platby": None, "/admin/sluzby": None, "/admin/tym": None, "/admin/banka": None,
        "/admin/banka/ucty": None, "/admin/banka/nesparovane": None, "/admin/brany": None, "/admin/api-klice": None,
        "/admin/webhooky": None, "/admin/audit": None, "/admin/operator/": None, "/admin/operator/banka": None,
        "/admin/operator/obce/nova": None,
    }
    for url in pages:
        page = op.get(url)
        assert page.status_code == 200, url
        assert b_name not in page.text, url
        assert b.objects["payment"]["external_id"] not in page.text, url
        assert "operator-b@example.cz" not in page.text, url
        assert "target-b@example.cz" not in page.text and "viewer-b@example.cz" not in page.text, url
    assert a_name in op.get("/admin/operator/").text
    assert a.objects["payment"]["external_id"] in op.get("/admin/platby").text
    # The export streams only the region's payments.
    csv_body = op.post("/admin/platby/export", data={"format": "csv"}).text
    assert a.objects["payment"]["external_id"] in csv_body and b.objects["payment"]["external_id"] not in csv_body
    # B's municipality cannot be chosen; B's region cannot be chosen by an operator.
    assert op.post("/admin/obec/vybrat", data={"municipality_id": str(b.municipality.id)}).status_code == 404
    assert op.post("/admin/kraj/vybrat", data={"region_id": str(b.municipality.region_id)}).status_code == 403
    # A new municipality joins the operator's region.
    r = op.post("/admin/operator/obce/nova", data={"name": "Nová Ves u Testu", "ico": "00262951", "district": "",
                                                   "state": "contacted", "date": "2026-01-05"})
    assert r.status_code == 303, r.text
    s.expire_all()
    new = s.scalar(select(Municipality).where(Municipality.name == "Nová Ves u Testu"))
    assert new.region_id == a.municipality.region_id
    # The audit log names none of B's actions.
    assert "operator-b@example.cz" not in op.get("/admin/audit").text


def test_national_staff_choose_a_region(app, world):  # type: ignore[no-untyped-def]
    a, b = world["a"], world["b"]
    national = world["client_for"](world["national"])
    assert national.post("/admin/kraj/vybrat", data={"region_id": "999999"}).status_code == 404
    assert national.post("/admin/kraj/vybrat", data={"region_id": str(b.municipality.region_id)}).status_code == 303
    page = national.get("/admin/platby").text
    assert b.objects["payment"]["external_id"] in page and a.objects["payment"]["external_id"] not in page
    assert b.municipality.name in national.get("/admin/operator/").text
    assert a.municipality.name not in national.get("/admin/operator/").text
    assert national.post("/admin/kraj/vybrat", data={"region_id": ""}).status_code == 303
    page = national.get("/admin/platby").text
    assert b.objects["payment"]["external_id"] in page and a.objects["payment"]["external_id"] in page


def test_operator_scope_follows_the_chosen_municipality(app, world):  # type: ignore[no-untyped-def]
    """National staff see every region and pick one municipality; a region's operator
    never sees another region's payments."""
    op = world["client_for"](world["national"])
    a, b = world["a"], world["b"]
    page = op.get("/admin/platby").text
    assert a.objects["payment"]["external_id"] in page and b.objects["payment"]["external_id"] in page
    assert op.post("/admin/obec/vybrat", data={"municipality_id": str(b.municipality.id)}).status_code == 303
    page = op.get("/admin/platby").text
    assert a.objects["payment"]["external_id"] not in page and b.objects["payment"]["external_id"] in page
    regional = world["client_for"](world["operator"]).get("/admin/platby").text
    assert a.objects["payment"]["external_id"] in regional and b.objects["payment"]["external_id"] not in regional
    # A's clerk never sees B's payments.
    page = world["client_for"](a.users["clerk"]).get("/admin/platby").text
    assert b.objects["payment"]["external_id"] not in page and a.objects["payment"]["external_id"] in page


