"""The hot citizen pages stay cheap: one SQL statement each, and no transaction
round trips (they read in autocommit)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.db import db_session
from tests.factories import make_municipality, make_service


@pytest.fixture
def statements(app):  # type: ignore[no-untyped-def]
    seen: list[str] = []
    engine = app.extensions["db_engine"]

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    def begin(conn):  # type: ignore[no-untyped-def]
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        seen.append("autocommit" if autocommit else "BEGIN")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "begin", begin)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "begin", begin)


def test_hot_pages_run_one_statement_in_autocommit(app, client, statements) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(slug="hradek")
    make_service(m, slug="odpad", name="Odpad")
    make_service(m, slug="psi", name="Psi")
    make_service(m, slug="stary", name="Starý", active=False)
    empty = make_municipality(slug="prazdna")
    db_session.remove()  # as in production: each request starts with a fresh session
    # The national home (the regions), a region's home (its municipalities), their brands included.
    for url, text in (("/", "Liberecký kraj"), ("/kraj/liberecky-kraj", "Obec"), ("/obec/hradek", "Psi"),
                      ("/obec/hradek/odpad", "Odpad"), ("/obec/prazdna", "žádné služby")):
        statements.clear()
        r = client.get(url)
        assert r.status_code == 200 and text in r.text, url
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1, (url, statements)
        assert "BEGIN" not in statements, (url, statements)
    page = client.get("/obec/hradek").text
    assert "Odpad" in page and "Psi" in page and "Starý" not in page
    assert client.get("/obec/hradek/stary").status_code == 404
    assert empty.slug == "prazdna"


def test_a_write_after_a_read_only_page_is_transactional_again(app, client) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(slug="obec-x")
    make_service(m, slug="odpad")
    db_session.remove()
    assert client.get("/obec/obec-x/odpad").status_code == 200
    db_session.remove()
    conn = db_session.connection()
    assert conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        assert dbapi.autocommit is False
    else:
        assert dbapi.isolation_level is not None  # pysqlite: None means autocommit
