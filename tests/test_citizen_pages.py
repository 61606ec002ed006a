"""Issue 14, citizen pages: searching without diacritics or case, Czech alphabetical
order in every list (ICU on PostgreSQL, the same order on SQLite), Czech plurals from the
catalogue's three forms, and a paid obligation's page."""

from __future__ import annotations

import re
import uuid

import pytest
from flask_babel import force_locale, ngettext
from sqlalchemy import select

from app.czech import czech, fold, sort_key
from app.db import db_session
from app.models import AmountMatch, LookupMode, Municipality, OnboardingState
from app.obligations.importing import import_obligations
from tests.factories import make_municipality, make_service

CZECH_ORDER = ["Česká Lípa", "Cvikov", "Chrastava", "Hrádek", "Rádlo", "Rychnov", "Šimonovice", "Zdislava", "Žandov"]
# Cvikov < Česká Lípa (Č after C), Hrádek < Chrastava (Ch after H), Rádlo < Rychnov.
EXPECTED = ["Cvikov", "Česká Lípa", "Hrádek", "Chrastava", "Rádlo", "Rychnov", "Šimonovice", "Zdislava", "Žandov"]


def _names_on(page: str, names: list[str]) -> list[str]:
    found = sorted((page.index(f">{n}<"), n) for n in names if f">{n}<" in page)
    return [n for _, n in found]


def test_sort_key_gives_the_czech_order() -> None:
    assert sorted(CZECH_ORDER, key=sort_key) == EXPECTED
    assert fold("  Železný   Brod ") == "zelezny brod"


def test_every_list_is_in_czech_order_on_both_databases(any_db_app) -> None:  # type: ignore[no-untyped-def]
    client = any_db_app.test_client()
    for i, name in enumerate(reversed(CZECH_ORDER)):
        m = make_municipality(name=name, slug=f"m-{uuid.uuid4().hex[:8]}")
        if i == 0:
            target = m
    # The SQL itself: ORDER BY … COLLATE "cs-CZ-x-icu" on either database.
    names = db_session.scalars(select(Municipality.name).order_by(czech(Municipality.name))).all()
    assert [n for n in names if n in EXPECTED] == EXPECTED
    # The region's home (the national home lists regions; its search lists municipalities).
    assert _names_on(client.get("/kraj/liberecky-kraj").text, EXPECTED) == EXPECTED
    assert _names_on(client.get("/?q=o").text, EXPECTED) == [n for n in EXPECTED if "o" in fold(n)]
    # A municipality's services.
    for name in reversed(CZECH_ORDER):
        make_service(target, name=f"Poplatek {name}", slug=f"s-{uuid.uuid4().hex[:8]}")
    page = client.get(f"/obec/{target.slug}").text
    assert _names_on(page, [f"Poplatek {n}" for n in EXPECTED]) == [f"Poplatek {n}" for n in EXPECTED]


@pytest.mark.parametrize("query", ["ceska lipa", "CESKA", "česká lípa", "lipa", "  Česká   Lípa "])
def test_search_without_diacritics_and_in_any_case(app, client, query):  # type: ignore[no-untyped-def]
    make_municipality(name="Česká Lípa", slug="ceska-lipa")
    make_municipality(name="Železný Brod", slug="zelezny-brod")
    page = client.get("/", query_string={"q": query}).text
    assert ">Česká Lípa<" in page and ">Železný Brod<" not in page


def test_search_finds_zelezny_and_ignores_wildcards(app, client):  # type: ignore[no-untyped-def]
    make_municipality(name="Železný Brod", slug="zelezny-brod")
    assert ">Železný Brod<" in client.get("/?q=zelezny").text
    assert ">Železný Brod<" not in client.get("/?q=%25").text.split("Výsledky")[1]


def test_customer_id_lookup_ignores_case(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m, slug="pes", lookup_mode=LookupMode.REQUIRED, amount_match=AmountMatch.EXACT)
    import_obligations(s, "Zákaznické číslo;Jméno;Částka\nPES-1001;Jana Nováková;300\n".encode(), "a.csv")
    page = client.post(f"/obec/{m.slug}/pes/vyhledat", data={"customer_id": "pes-1001"}).text
    assert "J*** N***" in page and 'name="obligation_token"' in page


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 služba"),
        (2, "2 služby"),
        (4, "4 služby"),
        (5, "5 služeb"),
        (0, "0 služeb"),
        (22, "22 služeb"),
        (11, "11 služeb"),
    ],
)
def test_czech_plurals_come_from_the_catalogue(app, n, text):  # type: ignore[no-untyped-def]
    with app.test_request_context("/"), force_locale("cs"):
        assert ngettext("%(num)d služba", "%(num)d služeb", n) == text


def test_municipality_cards_use_three_plural_forms(app, client):  # type: ignore[no-untyped-def]
    counts = {"Jedna": 1, "Dvě": 2, "Pět": 5}
    for name, count in counts.items():
        m = make_municipality(name=name, slug=f"m-{uuid.uuid4().hex[:8]}")
        for _ in range(count):
            make_service(m)
    page = re.sub(r"\s+", " ", client.get("/kraj/liberecky-kraj").text)
    assert "1 služba" in page and "2 služby" in page and "5 služeb" in page
    assert "2 služeb" not in page
    en = re.sub(r"\s+", " ", client.get("/kraj/liberecky-kraj?lang=en").text)
    assert "1 service" in en and "2 services" in en


def test_inactive_municipalities_are_not_listed(app, client):  # type: ignore[no-untyped-def]
    make_municipality(name="Zájemce", onboarding_state=OnboardingState.INTERESTED)
    assert ">Zájemce<" not in client.get("/kraj/liberecky-kraj").text
    assert ">Zájemce<" not in client.get("/?q=zajemce").text
