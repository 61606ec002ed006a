"""The citizen's flow with the demo gateway, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.db import db_session
from app.models import AmountMode, Payment, PaymentEvent
from tests.conftest import deliver_notifications
from tests.factories import make_municipality, make_service


def _pay_until_gateway(client, m, s, **form):  # type: ignore[no-untyped-def]
    page = client.get(f"/obec/{m.slug}/{s.slug}")
    assert page.status_code == 200
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    data = {"name": "Jana Nováková", "email": "jana@example.cz", "form_token": token, **form}
    r = client.post(f"/obec/{m.slug}/{s.slug}", data=data)
    assert r.status_code == 303, r.text
    review = r.headers["Location"]
    ext = review.rstrip("/").split("/")[-1]
    assert client.get(review).status_code == 200
    r = client.post(review, data={"consent": "yes"})
    assert r.status_code == 303
    return ext, r.headers["Location"]


def test_citizen_pays_a_fee_end_to_end(any_db_app):  # type: ignore[no-untyped-def]
    app = any_db_app
    client = app.test_client()
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek-nad-nisou")
    s = make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000)

    home = client.get("/?q=Hrádek")
    assert "Hrádek nad Nisou" in home.text
    assert "Poplatek za komunální odpad" in client.get(f"/obec/{m.slug}").text

    ext, gateway_url = _pay_until_gateway(client, m, s)
    assert "/demo-gateway/" in gateway_url
    payment = db_session.scalar(select(Payment).where(Payment.external_id == ext))
    assert payment.state == "started" and payment.amount == 80000
    # The URL never shows the database id.
    assert str(payment.id) not in ext

    hosted = client.get(gateway_url.replace("http://localhost", ""))
    assert "800\xa0Kč" in hosted.text  # in Czech, as the rest of the portal
    r = client.post(gateway_url.replace("http://localhost", ""), data={"action": "pay"})
    assert r.status_code == 303
    # The notification is verified and processed (inline job) before the payer returns.
    assert deliver_notifications(app, client) == [202]
    db_session.expire_all()
    payment = db_session.scalar(select(Payment).where(Payment.external_id == ext))
    assert payment.state == "paid" and payment.paid_at is not None

    r = client.get(r.headers["Location"].replace("http://localhost", ""))
    assert r.status_code == 302 and r.headers["Location"].endswith("/zaplaceno")
    success = client.get(r.headers["Location"])
    assert "Zaplaceno, děkujeme" in success.text
    states = db_session.scalars(
        select(PaymentEvent.to_state).where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")
    ).all()
    assert states == ["created", "started", "paid"]


def test_return_page_asks_the_gateway_when_no_notification_came(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    ext, gateway_url = _pay_until_gateway(client, m, s)
    pending = client.get(f"/platba/{ext}/stav")
    assert pending.status_code == 200 and 'http-equiv="refresh"' in pending.text
    client.post(gateway_url.replace("http://localhost", ""), data={"action": "pay"})
    app.extensions["test_outbox"].clear()  # the notification is lost
    r = client.get(f"/platba/{ext}/stav")
    assert r.status_code == 302 and r.headers["Location"].endswith("/zaplaceno")


def test_declined_and_cancelled_payments_show_their_state(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    for action, heading in (("decline", "Platba se nezdařila"), ("cancel", "Platba byla zrušena")):
        ext, gateway_url = _pay_until_gateway(client, m, s)
        client.post(gateway_url.replace("http://localhost", ""), data={"action": action})
        deliver_notifications(app, client)
        page = client.get(f"/platba/{ext}/stav")
        assert heading in page.text
        assert client.get(f"/platba/{ext}/zaplaceno").status_code == 302


def test_pay_form_submitted_twice_makes_one_payment(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    page = client.get(f"/obec/{m.slug}/{s.slug}")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    data = {"name": "Jan Novák", "email": "jan@example.cz", "form_token": token}
    first = client.post(f"/obec/{m.slug}/{s.slug}", data=data)
    second = client.post(f"/obec/{m.slug}/{s.slug}", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db_session.scalar(select(func.count(Payment.id))) == 1


def test_payer_chosen_amount_errors_are_in_czech(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m, amount_mode=AmountMode.PAYER, amount=None, amount_min=1000, amount_max=500000)
    url = f"/obec/{m.slug}/{s.slug}"
    base = {"name": "Jan Novák", "email": "jan@example.cz"}
    cases = {
        "": "Zadejte částku.",
        "abc": "Částka musí být číslo",
        "-5": "Částka nesmí být záporná.",
        "5": "Nejnižší možná částka je 10",
        "5001": "Nejvyšší možná částka je 5",
        "1e9": "Částka musí být číslo",
    }
    for amount, message in cases.items():
        r = client.post(url, data={**base, "amount": amount})
        assert r.status_code == 422, amount
        assert message in r.text, (amount, r.text)
    assert db_session.scalar(select(func.count(Payment.id))) == 0
    r = client.post(url, data={**base, "amount": "250,50"})
    assert r.status_code == 303
    assert db_session.scalar(select(Payment.amount)) == 25050


def test_unknown_things_are_404_not_500(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    make_service(m, slug="odpad")
    inactive = make_municipality(onboarding_state="interested")
    assert client.get("/obec/neexistuje").status_code == 404
    assert client.get(f"/obec/{inactive.slug}").status_code == 404
    assert client.get(f"/obec/{m.slug}/neexistuje").status_code == 404
    assert client.get("/platba/abc").status_code == 404
    assert client.get("/platba/" + "a" * 26).status_code == 404
    assert client.get("/platba/'%20OR%201=1--").status_code == 404
    assert client.post("/platba/" + "z" * 26).status_code == 404
    assert client.get("/demo-gateway/nope").status_code == 404
    assert client.delete(f"/obec/{m.slug}/odpad").status_code == 405
    # NUL bytes are refused app-wide before routing (tests/test_security.py).
    assert client.post("/obec/x/y", data={"name": "\x00" * 10}).status_code == 400
