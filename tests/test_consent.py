"""GDPR consent: the unticked checkbox, the server's refusal, the record, the public texts."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select

from app.citizens.consent import current_text, publish_consent_text
from app.db import db_session
from app.demo_data import seed_demo
from app.models import ConsentRecord, ConsentText, DemoGatewayTransaction, Payment, PaymentEvent
from tests.factories import make_municipality, make_payment, make_service


def test_review_page_shows_an_unticked_checkbox_with_links(app, client):
    p = make_payment()
    page = client.get(f"/platba/{p.external_id}").text
    box = re.search(r'<input type="checkbox" id="consent"[^>]*>', page).group(0)
    assert "checked" not in box
    assert '<label for="consent">Souhlasím s obchodními podmínkami a beru na vědomí zpracování osobních údajů</label>' in page
    assert 'href="/obchodni-podminky"' in page and 'href="/ochrana-osobnich-udaju"' in page


def test_payment_does_not_start_without_consent(any_db_app):
    client = any_db_app.test_client()
    p = make_payment(make_service(make_municipality()))
    for data in ({}, {"consent": ""}, {"consent": "no"}, {"consent": "<script>"}):
        r = client.post(f"/platba/{p.external_id}", data=data)
        assert r.status_code == 422
        assert "Pro platbu je třeba souhlasit s obchodními podmínkami" in r.text
        assert 'aria-invalid="true"' in r.text and 'id="error-summary"' in r.text
    db_session.expire_all()
    assert db_session.get(Payment, p.id).state == "created"
    assert db_session.scalar(select(func.count(ConsentRecord.id))) == 0
    assert db_session.scalar(select(func.count(DemoGatewayTransaction.reference))) == 0
    assert db_session.scalar(select(func.count(PaymentEvent.id)).where(PaymentEvent.to_state == "started")) == 0


def test_consent_is_recorded_with_the_payment_start(any_db_app):
    client = any_db_app.test_client()
    p = make_payment(make_service(make_municipality()))
    r = client.post(f"/platba/{p.external_id}", data={"consent": "yes"})
    assert r.status_code == 303 and "/demo-gateway/" in r.headers["Location"]
    db_session.expire_all()
    assert db_session.get(Payment, p.id).state == "started"
    records = db_session.scalars(select(ConsentRecord).order_by(ConsentRecord.kind)).all()
    assert [r.kind for r in records] == ["privacy", "terms"]
    for record in records:
        text = current_text(record.kind)
        assert record.payment_id == p.id and record.citizen_id is None
        assert record.consent_text_id == text.id and record.version == 1
        assert record.hash == hashlib.sha256(text.body.encode("utf-8")).hexdigest()
        assert record.created_at is not None
    # A repeated POST (back button) does not record a second consent.
    client.post(f"/platba/{p.external_id}", data={"consent": "yes"})
    assert db_session.scalar(select(func.count(ConsentRecord.id))) == 2


def test_consent_points_at_the_version_in_force(app, client):
    publish_consent_text("terms", "Obchodní podmínky Platebního portálu", "## Nové znění\nPlatby přijímá obec. " * 3)
    p = make_payment()
    client.post(f"/platba/{p.external_id}", data={"consent": "yes"})
    terms = db_session.scalar(select(ConsentRecord).where(ConsentRecord.kind == "terms"))
    assert terms.version == 2
    assert terms.hash == db_session.scalar(select(ConsentText.hash).where(ConsentText.kind == "terms", ConsentText.version == 2))


def test_texts_are_seeded_by_the_demo_seed(app):
    assert db_session.scalar(select(func.count(ConsentText.id))) == 0
    seed_demo(active_count=1)
    texts = db_session.scalars(select(ConsentText).order_by(ConsentText.kind)).all()
    assert [(t.kind, t.version) for t in texts] == [("privacy", 1), ("terms", 1)]
    privacy = texts[0]
    for phrase in ("čl. 6 odst. 1 písm. c) a e) GDPR", "10 let", "Správcem", "Zpracovatelem", "Úřadu pro ochranu osobních údajů"):
        assert phrase in privacy.body
    seed_demo(active_count=1)  # idempotent
    assert db_session.scalar(select(func.count(ConsentText.id))) == 2


def test_privacy_and_terms_pages_show_current_and_past_versions(any_db_app):
    client = any_db_app.test_client()
    # Created on first use when nobody seeded them.
    page = client.get("/ochrana-osobnich-udaju")
    assert page.status_code == 200
    assert "Zásady zpracování osobních údajů" in page.text and "čl. 6 odst. 1 písm. c) a e) GDPR" in page.text
    publish_consent_text("privacy", "Zásady zpracování osobních údajů", "## Správce\nNové znění zásad, verze dvě, <b>ne HTML</b>.")
    page = client.get("/ochrana-osobnich-udaju").text
    assert "Nové znění zásad" in page and "&lt;b&gt;ne HTML&lt;/b&gt;" in page
    assert 'href="/ochrana-osobnich-udaju/verze/1"' in page
    assert "Verze 2 ze dne" in page and "(platná)" in page
    old = client.get("/ochrana-osobnich-udaju/verze/1").text
    assert "Toto je starší znění (verze 1)" in old and "čl. 6 odst. 1 písm. c) a e) GDPR" in old
    assert "Nové znění zásad" not in old
    terms = client.get("/obchodni-podminky").text
    assert "Obchodní podmínky Platebního portálu" in terms and "nejsou předmětem daně z přidané hodnoty" in terms
    for url in (
        "/obchodni-podminky/verze/9",
        "/ochrana-osobnich-udaju/verze/0",
        "/obchodni-podminky/verze/x",
        "/obchodni-podminky/verze/-1",
        "/obchodni-podminky/verze/99999999999999999999999",
    ):
        assert client.get(url).status_code == 404
    # Every page links both texts in the footer.
    home = client.get("/").text
    assert 'href="/obchodni-podminky"' in home and 'href="/ochrana-osobnich-udaju"' in home


def test_a_bad_payment_method_and_missing_consent_are_both_reported(app, client):
    p = make_payment(make_service(make_municipality()))
    r = client.post(f"/platba/{p.external_id}", data={"gateway": "paypal"})
    assert r.status_code == 422
    summary = re.search(r'<div class="alert alert-error".*?</div>', r.text, re.S).group(0)
    assert "Vyberte jeden z nabízených způsobů platby" in summary and "souhlasit s obchodními podmínkami" in summary
    db_session.expire_all()
    assert (db_session.get(Payment, p.id).state, db_session.get(Payment, p.id).gateway_name) == ("created", "demo")
    assert db_session.scalar(select(func.count(ConsentRecord.id))) == 0
