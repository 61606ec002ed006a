"""The catalogue cache of the citizen pages (app/catalog/cache.py) and the rendered
fragments kept with it (app/fragments.py): no database work while fresh, expiry after
CATALOG_CACHE_SECONDS, invalidation when this process changes a service, one locale's text
never served to another, per-visitor parts (CSRF, form token, prefill) never cached, and
payments always checked against the database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from app.catalog import cache as catalog
from app.db import db_session
from app.models import Citizen, Payment, Service
from app.payments.create import create_payment
from app.payments.errors import PaymentError
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_service

TTL = 60.0


@pytest.fixture
def cached_app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, CATALOG_CACHE_SECONDS=TTL)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def statements(cached_app):  # type: ignore[no-untyped-def]
    seen: list[str] = []
    engine = cached_app.extensions["db_engine"]

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The catalogue's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(catalog.time, "monotonic", lambda: now[0])
    return now


def _seed() -> Service:
    m = make_municipality(slug="hradek", name="Hrádek nad Nisou")
    make_service(m, slug="psi", name="Poplatek ze psů")
    service = make_service(m, slug="odpad", name="Poplatek za odpad")
    db_session.remove()  # as in production: each request starts with a fresh session
    return service


def _deactivate_elsewhere(service_id: int) -> None:
    """A change this process's ORM does not see (as when another worker commits it)."""
    db_session.execute(text("UPDATE service SET active = :f WHERE id = :i"), {"f": False, "i": service_id})
    db_session.commit()
    db_session.remove()


def test_fresh_entries_serve_both_pages_without_the_database(cached_app, statements, clock) -> None:  # type: ignore[no-untyped-def]
    _seed()
    client = cached_app.test_client()
    first = client.get("/obec/hradek")
    assert first.status_code == 200 and "Poplatek za odpad" in first.text and "Poplatek ze psů" in first.text
    assert any(s.lstrip().upper().startswith("SELECT") for s in statements)
    statements.clear()
    again = client.get("/obec/hradek")
    pay = client.get("/obec/hradek/odpad")
    assert again.text == first.text
    assert pay.status_code == 200 and "Poplatek za odpad" in pay.text
    assert statements == []
    # The cached page is the page the database would give.
    cached_app.config["CATALOG_CACHE_SECONDS"] = 0
    assert client.get("/obec/hradek").text == first.text
    assert client.get("/obec/hradek/odpad").text.split('name="form_token"')[0] == pay.text.split('name="form_token"')[0]
    cached_app.config["CATALOG_CACHE_SECONDS"] = TTL
    # Unknown slugs still answer 404 (and are not cached).
    assert client.get("/obec/neni").status_code == 404
    assert client.get("/obec/hradek/neni").status_code == 404


def test_a_change_in_another_process_shows_after_the_ttl(cached_app, clock) -> None:  # type: ignore[no-untyped-def]
    service = _seed()
    client = cached_app.test_client()
    assert "Poplatek za odpad" in client.get("/obec/hradek").text
    _deactivate_elsewhere(service.id)
    clock[0] += TTL - 1
    assert "Poplatek za odpad" in client.get("/obec/hradek").text  # still within the TTL
    assert client.get("/obec/hradek/odpad").status_code == 200
    clock[0] += 2
    page = client.get("/obec/hradek")
    assert "Poplatek za odpad" not in page.text and "Poplatek ze psů" in page.text
    assert client.get("/obec/hradek/odpad").status_code == 404


def test_a_change_committed_in_this_process_shows_at_once(cached_app, clock) -> None:  # type: ignore[no-untyped-def]
    service = _seed()
    client = cached_app.test_client()
    assert "Poplatek za odpad" in client.get("/obec/hradek").text
    version = catalog.version()
    # A rolled-back change invalidates nothing.
    s = db_session.get(Service, service.id)
    s.name = "Přejmenováno"
    db_session.flush()
    db_session.rollback()
    assert catalog.version() == version
    # A committed one (as the admin's service editor does) does.
    s = db_session.get(Service, service.id)
    s.active = False
    db_session.commit()
    db_session.remove()
    assert catalog.version() > version
    assert "Poplatek za odpad" not in client.get("/obec/hradek").text
    assert client.get("/obec/hradek/odpad").status_code == 404
    # Any session counts, not only db_session (a job or a CLI command with its own).
    version = catalog.version()
    with Session(cached_app.extensions["db_engine"]) as other:
        other.get(Service, service.id).active = True
        other.commit()
    assert catalog.version() > version
    assert client.get("/obec/hradek/odpad").status_code == 200


def test_one_locale_never_gets_the_other_locales_fragments(cached_app, clock) -> None:  # type: ignore[no-untyped-def]
    _seed()
    english, czech = cached_app.test_client(), cached_app.test_client()
    en_page = english.get("/obec/hradek?lang=en").text
    assert "What you can pay" in en_page and "Co můžete zaplatit" not in en_page
    for url in ("/obec/hradek", "/obec/hradek/odpad"):
        cs_page = czech.get(url).text
        assert "Co můžete zaplatit" in cs_page or "Pokračovat" in cs_page, url
        assert "What you can pay" not in cs_page and "Continue" not in cs_page and "English" in cs_page, url
        en_page = english.get(url).text  # the session remembers English
        assert "What you can pay" in en_page or "Continue" in en_page, url
        assert "Co můžete zaplatit" not in en_page and "Pokračovat" not in en_page and "Česky" in en_page, url


def test_tokens_and_the_citizens_data_are_never_cached(db_url, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, CATALOG_CACHE_SECONDS=TTL, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _seed()
        citizen = Citizen(provider="bankid", subject="s-1", name="Jana Nováková", email="jana@example.cz")
        db_session.add(citizen)
        db_session.commit()
        citizen_id = citizen.id
        db_session.remove()

    # Requests outside the app context, as in production (Flask-WTF keeps the request's
    # token on g, which a test's long-lived app context would share between requests).
    def tokens(html: str) -> tuple[str, str]:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        form = re.search(r'name="form_token" value="([^"]+)"', html)
        assert csrf and form
        return csrf.group(1), form.group(1)

    a, b = app.test_client(), app.test_client()
    page_a, page_b = a.get("/obec/hradek/odpad").text, b.get("/obec/hradek/odpad").text
    assert tokens(page_a)[0] != tokens(page_b)[0] and tokens(page_a)[1] != tokens(page_b)[1]
    assert tokens(a.get("/obec/hradek/odpad").text)[1] != tokens(page_a)[1]

    logged_in = app.test_client()
    with logged_in.session_transaction() as session:
        session["citizen_id"] = citizen_id
    mine = logged_in.get("/obec/hradek/odpad").text
    assert 'value="Jana Nováková"' in mine and 'value="jana@example.cz"' in mine
    assert "Jana Nováková" not in b.get("/obec/hradek/odpad").text  # nobody else gets the prefill
    # The cached form posts as before (CSRF token from the page, one payment).
    csrf, form_token = tokens(b.get("/obec/hradek/odpad").text)
    r = b.post("/obec/hradek/odpad", data={"csrf_token": csrf, "form_token": form_token, "name": "Petr Novák", "email": "petr@example.cz"})
    assert r.status_code == 303
    with app.app_context():
        assert db_session.scalars(select(Payment)).one().payer_name == "Petr Novák"
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_payments_recheck_a_service_the_cache_still_shows(cached_app, clock) -> None:  # type: ignore[no-untyped-def]
    service = _seed()
    client = cached_app.test_client()
    entry = catalog.municipality_catalog("hradek")
    cached = entry.service("odpad")
    stale = db_session.get(Service, service.id)  # loaded while active
    assert client.get("/obec/hradek/odpad").status_code == 200
    _deactivate_elsewhere(service.id)
    assert client.get("/obec/hradek/odpad").status_code == 200  # the cache still shows it
    r = client.post("/obec/hradek/odpad", data={"name": "Petr Novák", "email": "petr@example.cz"})
    assert r.status_code == 404
    stale = db_session.merge(stale, load=False)
    assert stale.active is True  # the session's copy is stale…
    for given in (stale, cached):  # …and neither it nor the catalogue's copy decides
        with pytest.raises(PaymentError):
            create_payment(given, amount=None, payer_name="Petr Novák", payer_email="petr@example.cz")
    db_session.rollback()
    assert db_session.scalars(select(Payment)).all() == []


def test_create_payment_accepts_a_catalogue_copy_of_an_active_service(cached_app, clock) -> None:  # type: ignore[no-untyped-def]
    _seed()
    cached = catalog.municipality_catalog("hradek").service("odpad")
    payment = create_payment(cached, amount=None, payer_name="Petr Novák", payer_email="petr@example.cz")
    assert isinstance(payment.service_id, int) and payment.service_id == cached.id and payment.amount == 50000


def test_ttl_zero_turns_the_cache_off(app, client) -> None:  # type: ignore[no-untyped-def]
    service = _seed()
    assert app.config["CATALOG_CACHE_SECONDS"] == 0
    assert "Poplatek za odpad" in client.get("/obec/hradek").text
    _deactivate_elsewhere(service.id)
    assert "Poplatek za odpad" not in client.get("/obec/hradek").text
    assert app.extensions.get("catalog_entries", {}) == {}


def test_fragments_without_a_store_render_every_time(cached_app) -> None:  # type: ignore[no-untyped-def]
    """A template rendered without a catalogue entry (a POST, the admin's preview of the pay
    page) renders its fragments afresh; an entry keeps them per locale."""
    from flask import render_template_string
    from flask_babel import refresh

    template = '{% fragment catalog, "x" %}{{ n }}{% endfragment %}'
    entry = catalog.CatalogEntry(None, (), {}, catalog.version())  # type: ignore[arg-type]
    with cached_app.test_request_context("/"):
        assert render_template_string(template, n=1) == "1"  # catalog undefined
        assert render_template_string(template, n=2) == "2"
        assert render_template_string(template, catalog=None, n=3) == "3"
        assert render_template_string(template, catalog=entry, n=4) == "4"
        assert render_template_string(template, catalog=entry, n=5) == "4"  # kept on the entry
    with cached_app.test_request_context("/?lang=en"):
        refresh()  # as the before-request hook does (the test's app context outlives requests)
        assert render_template_string(template, catalog=entry, n=6) == "6"  # another locale
