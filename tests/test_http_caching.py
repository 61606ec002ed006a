"""Conditional requests for the municipality page: an ETag from the catalogue data and the
language; a matching If-None-Match gets 304 without the page; a change gives a new ETag."""

from __future__ import annotations

from app.db import db_session
from app.identity.session import CITIZEN_KEY
from app.models import Citizen
from tests.factories import make_municipality, make_service


def test_the_municipality_page_answers_conditional_requests(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Chrastava", slug="chrastava")
    s = make_service(m, name="Poplatek ze psa", slug="psi")
    first = client.get("/obec/chrastava")
    assert first.status_code == 200 and "Poplatek ze psa" in first.text
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/obec/chrastava", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # Another language is another page.
    english = client.get("/obec/chrastava?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200 and english.headers["ETag"] != etag
    client.get("/obec/chrastava?lang=cs")
    # A deactivated service changes the page, so the old ETag no longer matches.
    s.active = False
    db_session.commit()
    changed = client.get("/obec/chrastava", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Poplatek ze psa" not in changed.text
    assert changed.headers["ETag"] != etag


def test_a_logged_in_citizen_gets_the_page_without_an_etag(app, client) -> None:  # type: ignore[no-untyped-def]
    make_municipality(name="Chrastava", slug="chrastava")
    citizen = Citizen(provider="bankid", subject="s-1", name="Jana Nováková")
    db_session.add(citizen)
    db_session.commit()
    with client.session_transaction() as sess:
        sess[CITIZEN_KEY] = citizen.id
    r = client.get("/obec/chrastava", headers={"If-None-Match": "*"})
    assert r.status_code == 200 and "ETag" not in r.headers


def test_public_pages_do_not_rewrite_a_returning_visitors_cookie(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Chrastava", slug="chrastava")
    make_service(m, name="Poplatek ze psa", slug="psi")
    assert "Set-Cookie" in client.get("/obec/chrastava/psi").headers  # the CSRF token's session
    for path in ("/obec/chrastava/psi", "/obec/chrastava", "/"):
        r = client.get(path)
        assert r.status_code == 200 and "Set-Cookie" not in r.headers, path
