"""The English catalogue is complete, compiled, and actually used on the key pages.

(a) every msgid has a non-fuzzy translation keeping its placeholders; (b) the committed
.mo says the same as the .po; (c) with ``?lang=en`` the citizen pages and the admin
login show the English texts and none of the Czech originals from the catalogue.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app.models import AmountMode
from tests.conftest import deliver_notifications
from tests.factories import make_municipality, make_service

LC = Path(__file__).resolve().parent.parent / "app" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CZECH = re.compile("[áčďéěíňóřšťúůýž]", re.I)


def _catalog():  # type: ignore[no-untyped-def]
    with open(LC / "messages.po", "rb") as f:
        return read_po(f, locale="en")


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def test_every_message_is_translated_and_keeps_its_placeholders() -> None:
    catalog = _catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 500  # the whole UI, not an empty file
    problems = []
    for m in messages:
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
        strings = _forms(m.string)
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {m.id!r}")
            continue
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in _forms(m.id)))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) != wanted:
                problems.append(f"placeholders differ: {m.id!r} -> {s!r}")
            if s.startswith(" ") != _forms(m.id)[0].startswith(" "):
                problems.append(f"leading space differs: {m.id!r}")
    assert not problems, "\n".join(problems)
    plurals = [m for m in messages if m.pluralizable]
    assert plurals and all(len(_forms(m.string)) == catalog.num_plurals for m in plurals)


def test_english_texts_are_not_left_in_czech() -> None:
    """A copied msgid is not a translation (a few words are the same in both languages)."""
    same = {"IBAN", "IP", "VS", "Role"}
    left = [m.id for m in _catalog() if m.id and isinstance(m.id, str) and m.string == m.id and m.id not in same]
    assert not left
    czech = [m.string for m in _catalog() if m.id and any(CZECH.search(s.replace("IČO", "")) for s in _forms(m.string))]
    assert not czech


def test_compiled_catalogue_matches_the_po_file() -> None:
    catalog = _catalog()
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    fresh.seek(0)
    with open(LC / "messages.mo", "rb") as f:
        committed = read_mo(f)
    expected = read_mo(fresh)

    def table(c):  # type: ignore[no-untyped-def]
        def key(v):  # type: ignore[no-untyped-def]
            return tuple(v) if isinstance(v, (list, tuple)) else v

        return {key(m.id): key(m.string) for m in c if m.id}

    assert table(committed) == table(expected), "run scripts/i18n to recompile messages.mo"


def _czech_leftovers(page: str, catalog) -> list[str]:  # type: ignore[no-untyped-def]
    """Czech msgids (long enough to be unambiguous) that the page still shows, outside the
    parts marked lang="cs" on purpose (the binding Czech legal text)."""
    page = re.sub(r'<(h1|div) lang="cs"[^>]*>.*?</\1>', "", page, flags=re.S)
    text = html.unescape(page)
    found = []
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or PLACEHOLDER.search(m.id):
            continue
        if len(m.id) >= 12 and CZECH.search(m.id) and m.id != m.string and m.id in text:
            found.append(m.id)
    return found


@pytest.fixture
def catalog():  # type: ignore[no-untyped-def]
    return _catalog()


def _check(page, catalog, *english: str) -> str:  # type: ignore[no-untyped-def]
    assert page.status_code in (200, 422), page.status_code
    text = html.unescape(page.text)
    assert 'lang="en"' in text
    for e in english:
        assert e in text, e
    assert _czech_leftovers(page.text, catalog) == []
    return text


def test_citizen_pages_in_english(app, client, catalog) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou")
    s = make_service(
        m,
        name="Poplatek ze psa",
        slug="pes",
        amount_mode=AmountMode.PAYER,
        amount=None,
        amount_min=10000,
        amount_max=500000,
    )
    home = _check(client.get("/?lang=en"), catalog, "Pay a fee to your municipality", "Find your municipality")
    assert "Zaplaťte poplatek své obci" not in home
    _check(client.get(f"/obec/{m.slug}"), catalog, "What you can pay", "Poplatek ze psa")

    form = client.get(f"/obec/{m.slug}/{s.slug}")
    _check(form, catalog, "Payer's full name", "Email for the payment confirmation (receipt)")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    bad = client.post(f"/obec/{m.slug}/{s.slug}", data={"form_token": token, "name": "", "email": "x", "amount": "-5"})
    text = _check(
        bad, catalog, "There is a problem with the form", "Enter the payer's full name.", "Enter a valid email address"
    )
    assert "Vyplňte jméno a příjmení plátce." not in text

    token = re.search(r'name="form_token" value="([^"]+)"', bad.text).group(1)
    r = client.post(
        f"/obec/{m.slug}/{s.slug}",
        data={"form_token": token, "name": "Jana Nováková", "email": "jana@example.cz", "amount": "250"},
    )
    assert r.status_code == 303, r.text
    review_url = r.headers["Location"]
    _check(
        client.get(review_url), catalog, "Check your payment", "Change details", "I agree to the terms and conditions"
    )
    r = client.post(review_url, data={"consent": "yes", "gateway": "demo"})
    assert r.status_code == 303
    gateway_url = r.headers["Location"].replace("http://localhost", "")
    # The demo gateway's page speaks the payer's language too (its words come from the portal).
    text = _check(
        client.get(gateway_url),
        catalog,
        "Demo payment gateway",
        "DEMO – no real money",
        "Decline the payment",
        "Cancel and go back",
        "CZK\xa0250",
    )
    assert "Zaplatit" not in text and "Kč" not in text
    r = client.post(gateway_url, data={"action": "pay"})
    _check(client.get(gateway_url), catalog, "This payment has already been processed (paid).", "Back to the portal")
    assert deliver_notifications(app, client) == [202]
    r = client.get(r.headers["Location"].replace("http://localhost", ""))
    assert r.headers["Location"].endswith("/zaplaceno")
    _check(client.get(r.headers["Location"]), catalog, "Paid, thank you", "Payment number")


def test_privacy_page_and_admin_login_in_english(client, catalog) -> None:  # type: ignore[no-untyped-def]
    privacy = client.get("/ochrana-osobnich-udaju?lang=en")
    # The binding legal text (and so its title, also in <title>) stays Czech; the page says so.
    privacy.set_data(re.sub(r"<title>.*?</title>", "", privacy.get_data(as_text=True), flags=re.S))
    _check(privacy, catalog, "All versions", "Text fingerprint (SHA-256):", "This document is available only in Czech")
    login = _check(
        client.get("/admin/login?lang=en"),
        catalog,
        "Sign in to the administration",
        "Password",
        "Forgotten your password?",
    )
    assert "Přihlášení do administrace" not in login


def test_demo_gateway_page_is_czech_by_default(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou")
    s = make_service(m, name="Poplatek ze psa", slug="pes", amount_mode=AmountMode.FIXED, amount=125050)
    form = client.get(f"/obec/{m.slug}/{s.slug}")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    r = client.post(
        f"/obec/{m.slug}/{s.slug}", data={"form_token": token, "name": "Jana Nováková", "email": "jana@example.cz"}
    )
    assert r.status_code == 303, r.text
    r = client.post(r.headers["Location"], data={"consent": "yes", "gateway": "demo"})
    gateway_url = r.headers["Location"].replace("http://localhost", "")
    page = html.unescape(client.get(gateway_url).text)
    assert 'lang="cs"' in page
    for czech in (
        "Demo platební brána",
        "DEMO – žádné skutečné peníze",
        "1\xa0250,50\xa0Kč",
        "Zaplatit",
        "Zamítnout platbu",
        "Zrušit a vrátit se",
    ):
        assert czech in page, czech
    bad = client.post(gateway_url, data={"action": "refund"})
    assert bad.status_code == 400 and "Neznámá volba" in html.unescape(bad.text)
    assert "Unknown choice" in html.unescape(client.post(gateway_url + "?lang=en", data={"action": "x"}).text)
    client.get("/?lang=cs")
    client.post(gateway_url, data={"action": "decline"})
    assert "Tato platba již byla zpracována (zamítnuta)." in client.get(gateway_url).text
