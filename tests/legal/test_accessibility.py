"""The accessibility statement (Czech and English, linked from every layout's footer)
and security.txt (RFC 9116)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import make_test_app


def test_statement_in_czech_has_the_sections_of_the_methodology(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/prohlaseni-o-pristupnosti")
    assert r.status_code == 200
    text = r.text
    for heading in (
        "Prohlášení o přístupnosti",
        "Stav souladu",
        "Nepřístupný obsah",
        "Vypracování tohoto prohlášení",
        "Zpětná vazba a kontaktní údaje",
        "Postupy pro vymáhání",
    ):
        assert f">{heading}<" in text, heading
    assert "zákonem č. 99/2019 Sb." in text and "ČSN EN 301 549" in text and "WCAG 2.1 na úrovni AA" in text
    assert "axe-core" in text and "vypracováno dne 1. 12. 2026" in text
    assert "Ministerstvo vnitra" in text and "Nad Štolou 936/3, 170 34 Praha 7" in text
    # Without a date of the manual review the statement says it has not happened.
    assert "zatím neproběhla" in text


def test_statement_in_english_and_the_english_address(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/accessibility-statement")
    assert r.status_code == 301 and r.headers["Location"].endswith("/prohlaseni-o-pristupnosti?lang=en")
    r = client.get("/prohlaseni-o-pristupnosti?lang=en")
    assert r.status_code == 200 and '<html lang="en">' in r.text
    for heading in (
        "Accessibility statement",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this statement",
        "Feedback and contact details",
        "Enforcement procedure",
    ):
        assert f">{heading}<" in r.text, heading
    assert "Stav souladu" not in r.text and "Ministry of the Interior" in r.text


def test_contacts_and_dates_are_settings(db_url) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(
        db_url,
        ACCESSIBILITY_CONTACT_EMAIL="pristupnost@kraj.example.cz",
        ACCESSIBILITY_CONTACT_PHONE="+420 485 000 000",
        ACCESSIBILITY_ASSESSED_ON="2026-11-20",
        ACCESSIBILITY_MANUAL_REVIEW_ON="2026-11-25",
    )
    text = app.test_client().get("/prohlaseni-o-pristupnosti").text
    assert 'href="mailto:pristupnost@kraj.example.cz"' in text and 'href="tel:+420485000000"' in text
    assert "posouzení stránek proběhlo dne 20. 11. 2026" in text and "proběhla dne 25. 11. 2026" in text
    # A mistyped date does not take the page down.
    app.config["ACCESSIBILITY_ASSESSED_ON"] = "20. listopadu"
    r = app.test_client().get("/prohlaseni-o-pristupnosti")
    assert r.status_code == 200 and "proběhlo dne 1. 12. 2026" in r.text
    app.extensions["db_engine"].dispose()


def test_every_layout_links_the_statement(app, client) -> None:  # type: ignore[no-untyped-def]
    # The citizen layout, the staff layout (admin login) and an error page.
    for path in ("/", "/admin/login", "/ochrana-osobnich-udaju", "/nic-takoveho"):
        r = client.get(path)
        assert 'href="/prohlaseni-o-pristupnosti"' in r.text, path
    r = client.get("/?lang=en")
    assert re.search(r'href="/prohlaseni-o-pristupnosti">Accessibility statement<', r.text)


def test_security_txt(app, client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/.well-known/security.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in r.text.strip().splitlines())
    assert set(fields) == {"Contact", "Expires", "Preferred-Languages", "Canonical", "Policy"}
    assert fields["Contact"].startswith(("mailto:", "https://"))
    assert fields["Canonical"] == "http://localhost/.well-known/security.txt"
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 0 < (expires - datetime.now(UTC)).days < 366  # RFC 9116: less than a year ahead
    policy = client.get(fields["Policy"].replace("http://localhost", ""))
    assert policy.status_code == 200 and policy.mimetype == "text/plain" and "security.txt" in policy.text


def test_security_txt_settings(db_url) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(
        db_url, SECURITY_CONTACT="mailto:security@kraj.example.cz", SECURITY_TXT_EXPIRES="2027-06-30T00:00:00Z"
    )
    text = app.test_client().get("/.well-known/security.txt").text
    assert "Contact: mailto:security@kraj.example.cz\n" in text and "Expires: 2027-06-30T00:00:00Z\n" in text
    app.extensions["db_engine"].dispose()
