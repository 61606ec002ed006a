"""Templates translate through the request's catalogue (app/__init__.py caches the
lookup per request): a compiled English catalogue is used after ?lang=en, and the
next request in Czech is Czech again."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from tests.conftest import make_test_app


def _catalog(root: Path) -> Path:
    catalog = Catalog(locale="en", domain="messages")
    catalog.add("Zaplaťte poplatek své obci", "Pay your municipality's fee")
    catalog.add(("%(num)d služba", "%(num)d služeb"), ("%(num)d service", "%(num)d services"))
    target = root / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    return root


def test_templates_use_the_request_locale(tmp_path: Path, sqlite_url: str) -> None:
    app = make_test_app(sqlite_url, BABEL_TRANSLATION_DIRECTORIES=str(_catalog(tmp_path / "tr")))
    with app.app_context():
        from tests.factories import make_municipality, make_service

        make_service(make_municipality(name="Hrádek"))
    client = app.test_client()
    english = client.get("/?lang=en").text
    assert "Pay your municipality&#39;s fee" in english or "Pay your municipality's fee" in english
    assert "1 service" in english and 'lang="en"' in english
    with app.test_client() as other:
        czech = other.get("/").text
        assert "Zaplaťte poplatek své obci" in czech and "1 služba" in czech and 'lang="cs"' in czech
    # The choice sticks for the session, and switching back works.
    assert "Pay your" in client.get("/").text
    assert "Zaplaťte" in client.get("/?lang=cs").text
    app.extensions["db_engine"].dispose()
