"""QR Platba: the SPAYD string, its QR code decoded back, and the transfer details on pages."""

from __future__ import annotations

import io
import re

import pytest
import segno
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.db import db_session
from app.models import Payment, PaymentState, VariableSymbolRule
from app.qr import bank_transfer, iban_to_czech_account, qr_svg, spayd, spayd_escape
from tests.factories import make_municipality, make_payment, make_service

IBAN = "CZ6508000000192000145399"


def decode(data: str) -> str:
    """Render the QR code as a PNG with segno and read it back with zxing-cpp."""
    buf = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buf, kind="png", scale=6, border=4)
    buf.seek(0)
    results = zxingcpp.read_barcodes(Image.open(buf))
    assert len(results) == 1
    return results[0].text


def test_spayd_string_has_every_field_in_spec_format():
    s = spayd(IBAN, 80050, "1337000042", "Poplatek za odpad 2026", "Obec Hrádek nad Nisou", constant_symbol="0308")
    assert s == (
        "SPD*1.0*ACC:CZ6508000000192000145399*AM:800.50*CC:CZK*MSG:Poplatek za odpad 2026"
        "*RN:Obec Hrádek nad Nisou*X-VS:1337000042*X-KS:0308"
    )
    assert spayd(IBAN, 5, None, None, None) == "SPD*1.0*ACC:CZ6508000000192000145399*AM:0.05*CC:CZK"
    assert "AM:1234567.00*" in spayd(IBAN, 123456700, None, None, None)


def test_star_inside_values_is_escaped_and_survives_the_qr_code():
    s = spayd(IBAN, 30000, "1341000007", "Pes *Alík* – čip 123*456", "Obec *Test*")
    assert "MSG:Pes %2AAlík%2A – čip 123%2A456*" in s
    assert "RN:Obec %2ATest%2A*" in s
    # Splitting on * gives exactly the fields: no value leaks into another.
    assert [f.split(":")[0] for f in s.split("*")] == ["SPD", "1.0", "ACC", "AM", "CC", "MSG", "RN", "X-VS"]
    assert decode(s) == s
    assert spayd_escape("a*b\nc") == "a%2Ab c"


def test_message_and_recipient_are_cut_to_the_spec_limits():
    s = spayd(IBAN, 100, "1", "x" * 100, "Y" * 50)
    msg = re.search(r"\*MSG:([^*]*)", s).group(1)
    rn = re.search(r"\*RN:([^*]*)", s).group(1)
    assert len(msg) == 60 and len(rn) == 35
    assert decode(s) == s


@pytest.mark.parametrize(
    "args",
    [
        ("not-an-iban", 100, "1"),
        (IBAN, 0, "1"),
        (IBAN, -100, "1"),
        (IBAN, 100, "12345678901"),
        (IBAN, 100, "12a"),
    ],
)
def test_bad_values_are_refused(args):
    with pytest.raises(ValueError):
        spayd(*args)


def test_transfer_details_as_text():
    t = bank_transfer(IBAN, 80000, "1337000042", "Poplatek *za* odpad", "Hrádek nad Nisou", constant_symbol="0308")
    assert t.account == "19-2000145399/0800"
    assert t.iban_display == "CZ65 0800 0000 1920 0014 5399"
    assert t.amount_text == "800,00"
    assert decode(t.spayd) == t.spayd
    svg = str(t.svg("QR Platba"))
    assert svg.startswith('<svg role="img" aria-label="QR Platba"')
    assert iban_to_czech_account("CZ5855000000001265098001") == "1265098001/5500"
    assert iban_to_czech_account("SK3112000000198742637541") is None
    # No account, no fixed amount, or a broken symbol: no transfer offered, no error.
    assert bank_transfer(None, 100, "1", "m", "r") is None
    assert bank_transfer(IBAN, None, "1", "m", "r") is None
    assert bank_transfer(IBAN, 100, "abc", "m", "r").variable_symbol is None


def _svg_on(page: str) -> str:
    m = re.search(r"<svg role=\"img\".*?</svg>", page, re.S)
    assert m, "no QR code on the page"
    return m.group(0)


def test_review_page_offers_the_payments_own_transfer(any_db_app):
    client = any_db_app.test_client()
    m = make_municipality(name="Hrádek nad Nisou", iban=IBAN)
    s = make_service(m, name="Poplatek ze psů", amount=30000, variable_symbol="1341")
    p = make_payment(s, payer_name="Jana *Nováková*")
    p.variable_symbol = "1341000077"
    db_session.commit()
    page = client.get(f"/platba/{p.external_id}").text
    expected = spayd(IBAN, 30000, "1341000077", "Poplatek ze psů, Jana *Nováková*", "Hrádek nad Nisou")
    # The page's inline SVG is exactly the QR code of the expected SPAYD string …
    assert _svg_on(page) == str(qr_svg(expected, _label(page)))
    # … and that code decodes back to the string.
    assert decode(expected) == expected
    for text in ("19-2000145399/0800", "CZ65 0800 0000 1920 0014 5399", "300,00", "1341000077"):
        assert text in page


def _label(page: str) -> str:
    import html

    return html.unescape(re.search(r'<svg role="img" aria-label="([^"]*)"', page).group(1))


def test_service_page_shows_qr_only_when_the_symbol_fits_every_payer(app, client):
    m = make_municipality(iban=IBAN)
    shared = make_service(m, slug="psi", amount=30000, vs_rule=VariableSymbolRule.FIXED, variable_symbol="1341")
    own = make_service(m, slug="odpad", amount=80000, variable_symbol="1337")
    page = client.get(f"/obec/{m.slug}/{shared.slug}").text
    expected = spayd(IBAN, 30000, "1341", shared.name, m.name)
    assert _svg_on(page) == str(qr_svg(expected, _label(page)))
    page = client.get(f"/obec/{m.slug}/{own.slug}").text
    assert "<svg" not in page and "na další stránce najdete QR Platbu" in page


def test_failed_payment_offers_a_transfer_and_no_account_means_no_qr(app, client):
    m = make_municipality(iban=IBAN)
    p = make_payment(make_service(m, amount=12345), state=PaymentState.FAILED)
    p.variable_symbol = "1337000099"
    db_session.commit()
    page = client.get(f"/platba/{p.external_id}/stav").text
    assert "Platba se nezdařila" in page and "123,45" in page and "1337000099" in page
    assert "<svg" in page
    no_account = make_municipality(iban=None)
    q = make_payment(make_service(no_account), state=PaymentState.FAILED)
    r = client.get(f"/platba/{q.external_id}/stav")
    assert r.status_code == 200 and "<svg" not in r.text
    assert db_session.scalar(select(Payment.state).where(Payment.id == q.id)) == "failed"


def test_an_obligations_transfer_carries_its_specific_symbol(any_db_app):  # type: ignore[no-untyped-def]
    from app.models import Obligation
    from app.qr import transfer_for_obligation

    m = make_municipality(iban="CZ0520100000002801234578")
    service = make_service(m, constant_symbol="0558")
    o = Obligation(municipality_id=m.id, service_id=service.id, customer_id="C1", payer_name="Dvořák Jan",
                   amount=150000, variable_symbol="2026000123", specific_symbol="0042")  # fmt: skip
    db_session.add(o)
    db_session.commit()
    t = transfer_for_obligation(service, o)
    assert t is not None and t.specific_symbol == "0042"
    assert "*X-VS:2026000123*X-KS:0558*X-SS:0042" in t.spayd
