"""Degrade, never 500: rate limits count in memory while Redis is away, and a database
that is away gives a 503 page that says so (a read is retried once first)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from sqlalchemy.exc import OperationalError

from app.db import SessionFactory, db_session, make_engine
from app.models import LookupMode
from app.obligations.importing import import_obligations
from gateway.demo import SIGNATURE_HEADER, sign
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_service


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def redis_down_app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(
        db_url,
        RATELIMIT_ENABLED=True,
        REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
        ADMIN_LOGIN_RATE_LIMIT="3 per minute",
        LOOKUP_RATE_LIMIT="3 per minute",
    )
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_login_reset_and_lookup_answer_while_redis_is_down(redis_down_app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m, slug="odpad", lookup_mode=LookupMode.OPTIONAL)
    csv = "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol\nZ-1;Jana Nováková;100;31. 12. 2099;2099001\n"
    import_obligations(s, csv.encode(), "seznam.csv")
    c = redis_down_app.test_client()
    logins = [
        c.post("/admin/login", data={"email": "x@example.cz", "password": "spatne"}).status_code for _ in range(4)
    ]
    assert 500 not in logins and logins[-1] == 429  # the limit still counts, in memory
    assert c.get("/admin/heslo/zapomenute").status_code == 200
    assert c.post("/admin/heslo/zapomenute", data={"email": "x@example.cz"}).status_code in (200, 303)
    lookups = [c.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1"}).status_code for _ in range(4)]
    assert lookups[:3] == [200, 200, 200] and lookups[-1] == 429


def test_the_statistics_answer_while_redis_is_down(redis_down_app) -> None:  # type: ignore[no-untyped-def]
    """Their cache is Redis: computed without it, the same figures."""
    make_municipality()
    c = redis_down_app.test_client()
    for path in ("/statistiky", "/statistiky/data.csv", "/kraj/liberecky-kraj/statistiky/data.json"):
        r = c.get(path)
        assert r.status_code == 200 and "ETag" in r.headers, path


@pytest.fixture
def database_away(app):  # type: ignore[no-untyped-def]
    """The database stops answering: sessions get an engine on a closed port."""
    good = app.extensions["db_engine"]
    away = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/gone")
    db_session.remove()
    SessionFactory.configure(bind=away)
    yield
    db_session.remove()
    SessionFactory.configure(bind=good)
    away.dispose()


def test_a_database_that_is_away_gives_a_503_that_says_so(app, client, database_away) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "nemůže spojit se svou databází" in r.text
    body = json.dumps(
        {"id": "evt_1", "type": "payment.paid", "reference": "demo_x", "created": int(time.time())}
    ).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(app.config["DEMO_GATEWAY_SECRET"], body)}
    r = client.post("/webhooks/demo", data=body, headers=headers)
    # The gateway retries a 5xx: the notification is not lost.
    assert r.status_code == 503 and "databází" in r.json["error"]


def test_a_read_is_retried_once_on_a_lost_connection(app, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(make_service(make_municipality()), state="started", gateway_reference="demo_x")
    from app.checkout import routes

    calls = []
    real = routes.sync_payment

    def flaky(p, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real(p, **kw)

    monkeypatch.setattr(routes, "sync_payment", flaky)
    r = client.get(f"/platba/{payment.external_id}/stav")
    assert r.status_code == 200 and len(calls) == 2
