"""Templates translate through the request's catalogue (app/__init__.py caches the
lookup per request): the English catalogue is used after ?lang=en, and the next
request in Czech is Czech again.

(Flask-Babel caches catalogues per locale process-wide, so tests use the project's
own catalogue rather than a temporary one.)"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_test_app


def test_templates_use_the_request_locale(tmp_path: Path, sqlite_url: str) -> None:
    app = make_test_app(sqlite_url)
    with app.app_context():
        from tests.factories import make_municipality, make_service

        make_service(make_municipality(name="Hrádek"))
    client = app.test_client()
    english = client.get("/kraj/liberecky-kraj?lang=en").text
    assert "Pay a fee to your municipality" in english
    assert "1 service" in english and 'lang="en"' in english
    with app.test_client() as other:
        czech = other.get("/kraj/liberecky-kraj").text
        assert "Zaplaťte poplatek své obci" in czech and "1 služba" in czech and 'lang="cs"' in czech
    # The choice sticks for the session, and switching back works.
    assert "Pay a fee" in client.get("/").text
    assert "Zaplaťte" in client.get("/?lang=cs").text
    app.extensions["db_engine"].dispose()
