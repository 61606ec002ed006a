"""Matching by birth number, which the citizen consents to at login: a payer list may carry
a birth-number column, stored only as an HMAC keyed like the citizen's; a consenting
citizen sees (and can pay) those obligations, anyone else does not."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.citizens.accounts import birth_number_hmac
from app.db import db_session
from app.identity.session import CITIZEN_KEY
from app.models import AmountMatch, Citizen, ImportStatus, LookupMode, Obligation, ObligationImport, Payment
from app.obligations.importing import import_obligations
from app.obligations.jobs import start_import
from tests.factories import make_municipality, make_service

BIRTH_NUMBER = "805517/0005"
LIST = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;Rodné číslo\n"
    f"ODP-1;Jana Nováková;1250,50;31. 3. 2026;{BIRTH_NUMBER}\n"
    "ODP-2;Petr Svoboda;800;31. 3. 2026;\n"
)


def _service():  # type: ignore[no-untyped-def]
    m = make_municipality(name="Chrastava", slug="chrastava")
    return make_service(m, slug="odpad", name="Odpad", lookup_mode=LookupMode.REQUIRED, amount_match=AmountMatch.EXACT)


def _digest(app) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        digest = birth_number_hmac(BIRTH_NUMBER)
    assert digest
    return digest


def _citizen(client, *, digest: str | None, subject: str = "sub-1") -> Citizen:  # type: ignore[no-untyped-def]
    c = Citizen(
        provider="bankid", subject=subject, name="Jana Nováková", email="jana@example.cz", birth_number_hmac=digest
    )
    db_session.add(c)
    db_session.commit()
    with client.session_transaction() as s:
        s[CITIZEN_KEY] = c.id
    return c


def test_an_import_with_a_birth_number_column_stores_only_the_hmac(app) -> None:  # type: ignore[no-untyped-def]
    service = _service()
    record = start_import(service, LIST.encode(), "predpisy.csv")
    db_session.expire_all()
    record = db_session.get(ObligationImport, record.id)
    assert record.status == ImportStatus.DONE, record.report
    assert record.content == b""  # the upload, with the numbers in clear, is not kept
    rows = {o.customer_id: o for o in db_session.scalars(select(Obligation))}
    assert rows["ODP-1"].birth_number_hmac == _digest(app)
    assert rows["ODP-2"].birth_number_hmac is None
    digits = re.sub(r"\D", "", BIRTH_NUMBER)
    for o in rows.values():
        stored = " ".join(str(getattr(o, c.key)) for c in o.__mapper__.column_attrs)
        assert digits not in stored and BIRTH_NUMBER not in stored and digits[:6] not in stored
    assert digits not in str(record.report)


def test_a_bad_birth_number_is_a_row_error_that_does_not_repeat_it(app) -> None:  # type: ignore[no-untyped-def]
    service = _service()
    report = import_obligations(service, LIST.replace(BIRTH_NUMBER, "12/34").encode(), "predpisy.csv")
    assert not report.imported
    assert [(e.line, e.column) for e in report.errors] == [(2, "birth_number")]
    assert "12/34" not in " ".join(report.lines())


def test_a_consenting_citizen_sees_and_pays_their_obligation(app, client) -> None:  # type: ignore[no-untyped-def]
    service = _service()
    assert import_obligations(service, LIST.encode(), "predpisy.csv").imported
    _citizen(client, digest=_digest(app))
    page = client.get("/ucet/").text
    assert "Odpad" in page and "1\u00a0250,50\u00a0Kč" in page and "800\u00a0Kč" not in page
    link = re.search(r'href="(/obec/chrastava/odpad/predpis/[^"]+)"', page).group(1)
    form = client.get(link)
    assert form.status_code == 200 and "J*** N***" in form.text
    token = re.search(r'name="obligation_token" value="([^"]+)"', form.text).group(1)
    r = client.post(
        "/obec/chrastava/odpad",
        data={
            "name": "Jana Nováková",
            "email": "jana@example.cz",
            "amount": "1250,50",
            "obligation_token": token,
        },
    )
    assert r.status_code == 303
    payment = db_session.scalar(select(Payment))
    assert payment.amount == 125050 and payment.obligation_id is not None


def test_a_citizen_without_consent_does_not_see_them(app, client) -> None:  # type: ignore[no-untyped-def]
    service = _service()
    assert import_obligations(service, LIST.encode(), "predpisy.csv").imported
    _citizen(client, digest=None)
    page = client.get("/ucet/").text
    assert "1\u00a0250,50\u00a0Kč" not in page and "/predpis/" not in page
    # Another citizen's consent matches only their own number.
    other = app.test_client()
    with app.test_request_context():
        digest = birth_number_hmac("7354250008")
    _citizen(other, digest=digest, subject="sub-2")
    assert "1\u00a0250,50\u00a0Kč" not in other.get("/ucet/").text


def test_a_forged_pay_link_is_refused(app, client) -> None:  # type: ignore[no-untyped-def]
    _service()
    r = client.get("/obec/chrastava/odpad/predpis/forged")
    assert r.status_code == 422 and "Platnost vyhledání vypršela" in r.text
