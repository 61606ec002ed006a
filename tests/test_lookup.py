"""Looking up what a payer owes and paying it: masked output, the same answer for
unknown and foreign IDs, amount rules, bad input, rate limit, and the obligation's state
as payments (partial, full, refunded) arrive."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.models import AmountMatch, LookupMode, Obligation, ObligationState, Payment, PaymentState
from app.obligations.importing import import_obligations
from app.obligations.lookup import describe_obligation, mask_name
from app.payments.refunds import refund_payment
from app.payments.transitions import transition_payment
from tests.conftest import deliver_notifications, make_test_app
from tests.factories import make_municipality, make_payment, make_service

LIST = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol;Poznámka\n"
    "Z-1001;Jana Nováková;1 250,50;31. 12. 2099;2099001;Lipová 12, tajná poznámka\n"
    "Z-1002;Petr Svoboda;800;1. 1. 2020;2099002;\n"
)


def _setup(lookup_mode: str = LookupMode.REQUIRED, amount_match: str = AmountMatch.EXACT, **kw):  # type: ignore[no-untyped-def]
    m = make_municipality(slug=kw.pop("slug", None) or f"obec-{uuid.uuid4().hex[:6]}")
    s = make_service(m, slug="odpad", lookup_mode=lookup_mode, amount_match=amount_match, variable_symbol="1337")
    report = import_obligations(s, LIST.encode(), "seznam.csv")
    assert report.imported, report.lines()
    return m, s


def _obligation(customer_id: str) -> Obligation:
    db_session.expire_all()
    return db_session.scalar(select(Obligation).where(Obligation.customer_id == customer_id))


def _lookup(client, m, query: str):  # type: ignore[no-untyped-def]
    return client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": query})


def _token(page: str) -> str:
    return re.search(r'name="obligation_token" value="([^"]+)"', page).group(1)


def _pay(client, m, page: str, **form):  # type: ignore[no-untyped-def]
    data = {"name": "Jana Nováková", "email": "jana@example.cz", "obligation_token": _token(page), **form}
    return client.post(f"/obec/{m.slug}/odpad", data=data)


def test_mask_name() -> None:
    assert mask_name("Jana Nováková") == "J*** N***"
    assert mask_name("  Řehoř   de la Čermák ") == "Ř*** d*** l*** Č***"
    assert mask_name("X") == "X***"


def test_required_lookup_shows_the_lookup_form_only(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    page = client.get(f"/obec/{m.slug}/odpad")
    assert page.status_code == 200
    assert 'for="customer_id"' in page.text and "Vyhledejte, co máte zaplatit" in page.text
    assert 'name="email"' not in page.text  # no pay form before a lookup


def test_lookup_shows_masked_name_remaining_amount_due_date_and_state(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    r = _lookup(client, m, "Z-1001")
    assert r.status_code == 200
    assert "J*** N***" in r.text
    assert "1\u00a0250,50\u00a0Kč" in r.text
    assert "31. 12. 2099" in r.text
    assert "Nezaplaceno" in r.text
    # Nothing beyond the masked name: no full name, no note, no internal ids.
    for secret in ("Jana", "Nováková", "Lipová", "tajná"):
        assert secret not in r.text
    assert 'name="email"' in r.text and 'name="obligation_token"' in r.text
    # By variable symbol too, with surrounding spaces.
    r = _lookup(client, m, "  2099002 ")
    assert "P*** S***" in r.text and "Po splatnosti" in r.text and "800\u00a0Kč" in r.text


def test_unknown_and_other_municipality_ids_get_the_same_answer(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    other, _ = _setup()  # the same list in another municipality
    other_only = make_service(other, slug="psi", lookup_mode=LookupMode.REQUIRED)
    assert import_obligations(other_only, "Zákaznické číslo;Jméno;Částka\nCIZI-77;Cizí Člověk;100\n".encode(), "a.csv").imported
    unknown = _lookup(client, m, "CIZI-78")
    foreign = _lookup(client, m, "CIZI-77")
    assert unknown.status_code == foreign.status_code == 200
    strip = lambda t: re.sub(r'name="csrf_token" value="[^"]*"', "", t).replace("CIZI-78", "CIZI-77")  # noqa: E731
    assert strip(unknown.text) == strip(foreign.text)
    assert "nic nenašli" in foreign.text and "C*** Č***" not in foreign.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Zadejte zákaznické číslo"),
        ("   ", "Zadejte zákaznické číslo"),
        ("1" * 101, "nemají víc než 100 znaků"),
        ("x" * 5000, "nemají víc než 100 znaků"),
        ("<script>alert(1)</script>", "smí obsahovat jen písmena"),
        ("' OR 1=1 --", "smí obsahovat jen písmena"),
        ("%00%27", "smí obsahovat jen písmena"),
        ("😀", "smí obsahovat jen písmena"),
    ],
)
def test_junk_lookup_input_gets_a_czech_message_not_a_500(app, client, query, message):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    r = _lookup(client, m, query)
    assert r.status_code == 422
    assert message in r.text
    assert 'aria-invalid="true"' in r.text and 'id="error-summary"' in r.text
    assert "<script>alert" not in r.text


def test_nul_byte_in_a_lookup_is_refused_with_a_reason(app, client):  # type: ignore[no-untyped-def]
    # The app-wide guard answers before the form: PostgreSQL cannot store NUL bytes.
    m, _ = _setup()
    r = _lookup(client, m, "Z-1001\x00")
    assert r.status_code == 400
    assert "nepovolené znaky" in r.text


def test_lookup_on_a_service_without_a_list_is_404(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    make_service(m, slug="odpad")
    assert _lookup(client, m, "Z-1001").status_code == 404


def test_exact_amount_pays_the_remaining_amount_with_the_obligations_symbol(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup(amount_match=AmountMatch.EXACT)
    page = _lookup(client, m, "Z-1001").text
    assert 'name="amount"' not in page  # the amount is fixed
    r = _pay(client, m, page, amount="1")  # a forged amount is ignored
    assert r.status_code == 303, r.text
    payment = db_session.scalar(select(Payment))
    obligation = _obligation("Z-1001")
    assert payment.amount == 125050
    assert payment.obligation_id == obligation.id
    assert payment.variable_symbol == "2099001"


def test_required_lookup_refuses_a_payment_without_or_with_a_forged_token(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    base = {"name": "Jana Nováková", "email": "jana@example.cz"}
    r = client.post(f"/obec/{m.slug}/odpad", data=base)
    assert r.status_code == 422 and "Nejprve vyhledejte" in r.text
    r = client.post(f"/obec/{m.slug}/odpad", data={**base, "obligation_token": "IlotMTAwMSI.forged.sig"})
    assert r.status_code == 422 and "vypršela" in r.text
    # A token from another municipality's service is not valid here.
    other, _ = _setup()
    page = _lookup(client, other, "Z-1001").text
    r = client.post(f"/obec/{m.slug}/odpad", data={**base, "obligation_token": _token(page)})
    assert r.status_code == 422
    assert db_session.scalar(select(func.count(Payment.id))) == 0


@pytest.mark.parametrize(
    ("rule", "amount", "ok", "message"),
    [
        (AmountMatch.AT_LEAST, "1 000", False, "Zaplaťte alespoň 1\u00a0250,50\u00a0Kč"),
        (AmountMatch.AT_LEAST, "2000", True, None),
        (AmountMatch.AT_MOST, "1300", False, "nejvýše 1\u00a0250,50\u00a0Kč"),
        (AmountMatch.AT_MOST, "500", True, None),
        (AmountMatch.ANY, "5", True, None),
        (AmountMatch.ANY, "-5", False, "nesmí být záporná"),
        (AmountMatch.ANY, "abc", False, "musí být číslo"),
    ],
)
def test_amount_rules(app, client, rule, amount, ok, message):  # type: ignore[no-untyped-def]
    m, _ = _setup(amount_match=rule)
    page = _lookup(client, m, "Z-1001").text
    assert 'name="amount"' in page and 'value="1\u00a0250,50"' in page
    r = _pay(client, m, page, amount=amount)
    if ok:
        assert r.status_code == 303, r.text
        assert db_session.scalar(select(Payment.obligation_id)) == _obligation("Z-1001").id
    else:
        assert r.status_code == 422 and message in r.text, r.text
        assert "J*** N***" in r.text  # the obligation is still shown
        assert db_session.scalar(select(func.count(Payment.id))) == 0


def test_optional_lookup_still_allows_paying_without_it(app, client):  # type: ignore[no-untyped-def]
    m, s = _setup(lookup_mode=LookupMode.OPTIONAL)
    page = client.get(f"/obec/{m.slug}/odpad")
    assert "Vyhledat předpis (nepovinné)" in page.text and 'name="email"' in page.text
    r = client.post(f"/obec/{m.slug}/odpad", data={"name": "Jan Novák", "email": "jan@example.cz"})
    assert r.status_code == 303
    payment = db_session.scalar(select(Payment))
    assert payment.obligation_id is None and payment.amount == s.amount


def test_partial_then_full_payment_and_refund_update_the_obligation(app):  # type: ignore[no-untyped-def]
    _, s = _setup(amount_match=AmountMatch.AT_MOST)
    obligation = _obligation("Z-1001")
    assert obligation.state == ObligationState.UNPAID
    first = make_payment(s, amount=50000, obligation_id=obligation.id, state=PaymentState.STARTED)
    transition_payment(first, PaymentState.PAID, reason="test")
    db_session.commit()
    obligation = _obligation("Z-1001")
    assert (obligation.amount_paid, obligation.remaining) == (50000, 75050)
    assert obligation.state == ObligationState.PARTIALLY_PAID
    assert describe_obligation(obligation)["remaining"] == 75050
    # The same transition again (a repeated notification) does not count twice.
    transition_payment(first, PaymentState.PAID, reason="again")
    db_session.commit()
    assert _obligation("Z-1001").amount_paid == 50000
    second = make_payment(s, amount=75050, obligation_id=obligation.id, state=PaymentState.STARTED)
    transition_payment(second, PaymentState.PAID, reason="test")
    db_session.commit()
    obligation = _obligation("Z-1001")
    assert obligation.amount_paid == 125050 and obligation.state == ObligationState.PAID


def test_overdue_state(app):  # type: ignore[no-untyped-def]
    _setup()
    late = _obligation("Z-1002")
    assert late.state == ObligationState.OVERDUE
    assert late.state_on(date(2019, 12, 31)) == ObligationState.UNPAID
    late.due_date = date.today() - timedelta(days=1)
    late.amount_paid = 100
    assert late.state == ObligationState.OVERDUE
    late.amount_paid = late.amount
    assert late.state == ObligationState.PAID


def _payment_for(ext: str) -> Payment:
    db_session.expire_all()
    return db_session.scalar(select(Payment).where(Payment.external_id == ext))


def _through_gateway(app, client, r) -> str:  # type: ignore[no-untyped-def]
    review = r.headers["Location"]
    ext = review.rstrip("/").split("/")[-1]
    started = client.post(review, data={"consent": "yes"})
    assert started.status_code == 303
    gateway_url = started.headers["Location"].replace("http://localhost", "")
    assert client.post(gateway_url, data={"action": "pay"}).status_code == 303
    assert deliver_notifications(app, client) == [202]
    return ext


def test_flow_lookup_pay_with_demo_gateway_marks_the_obligation_paid(any_db_app):  # type: ignore[no-untyped-def]
    app = any_db_app
    client = app.test_client()
    m, _ = _setup(amount_match=AmountMatch.AT_MOST)
    # A partial payment first …
    page = _lookup(client, m, "Z-1001").text
    ext = _through_gateway(app, client, _pay(client, m, page, amount="250,50"))
    assert _payment_for(ext).state == "paid"
    obligation = _obligation("Z-1001")
    assert obligation.amount_paid == 25050 and obligation.state == ObligationState.PARTIALLY_PAID
    page = _lookup(client, m, "Z-1001").text
    assert "Částečně zaplaceno" in page and "1\u00a0000\u00a0Kč" in page
    # … then the rest.
    before = page
    ext = _through_gateway(app, client, _pay(client, m, page, amount="1000"))
    payment = _payment_for(ext)
    assert payment.state == "paid" and payment.variable_symbol == "2099001"
    obligation = _obligation("Z-1001")
    assert obligation.amount_paid == 125050 and obligation.state == ObligationState.PAID
    page = _lookup(client, m, "Z-1001").text
    # A paid obligation's page says so, links the receipt and has no pay form.
    assert "Zaplaceno" in page and "/potvrzeni/" in page
    assert "obligation_token" not in page and "Pokračovat" not in page
    # Nothing is left to pay under "at most" (a form kept open in another tab).
    r = _pay(client, m, before, amount="1")
    assert r.status_code == 422 and "již zaplacen" in r.text
    # Refunds through the gateway take the money back off the obligation.
    refund_payment(payment, 25000, reason="přeplatek")
    assert _obligation("Z-1001").amount_paid == 100050
    assert _obligation("Z-1001").state == ObligationState.PARTIALLY_PAID
    refund_payment(_payment_for(ext), 75000, reason="vráceno celé")
    assert _payment_for(ext).state == "refunded"
    assert _obligation("Z-1001").amount_paid == 25050


@pytest.fixture
def limited_app(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", LOOKUP_RATE_LIMIT="10 per minute")
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_lookup_is_rate_limited_per_client(limited_app):  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    m, _ = _setup()
    codes = [_lookup(client, m, f"NIC-{i}").status_code for i in range(10)]
    assert codes == [200] * 10
    r = _lookup(client, m, "Z-1001")
    assert r.status_code == 429 and "Příliš mnoho pokusů" in r.text
    # Another client (address) still gets through.
    other = limited_app.test_client()
    r = other.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 200 and "J*** N***" in r.text
    # The pay page itself is not limited.
    assert client.get(f"/obec/{m.slug}/odpad").status_code == 200


def test_rate_limit_uses_redis_when_configured(db_url, redis_url):  # type: ignore[no-untyped-def]
    import random

    # A client address of our own: the counters live in a Redis other test runs share.
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    app = make_test_app(db_url, REDIS_URL=redis_url, RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="3 per minute")
    with app.app_context():
        assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
        client = app.test_client()
        m, _ = _setup()
        url = f"/obec/{m.slug}/odpad/vyhledat"
        codes = [
            client.post(url, data={"customer_id": "Z-1001"}, environ_base={"REMOTE_ADDR": address}).status_code
            for _ in range(4)
        ]
        redis = app.extensions["redis"]
        keys = list(redis.scan_iter(f"*/{address}/checkout.lookup/*"))
        if keys:
            redis.delete(*keys)
        assert codes == [200, 200, 200, 429]
        assert keys, "the counter lives in Redis"
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_municipality_page_says_the_amount_comes_from_the_lookup(app, client):  # type: ignore[no-untyped-def]
    m, _ = _setup()
    page = client.get(f"/obec/{m.slug}")
    assert "částka podle zákaznického čísla" in page.text
