"""The pay form is a Flask-WTF form: its fields' validators, then the amount rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from app.checkout.forms import PayForm
from app.models import AmountMode
from tests.factories import make_municipality, make_service


def test_the_pay_form_checks_name_email_and_amount(app) -> None:  # type: ignore[no-untyped-def]
    service = make_service(make_municipality(), amount_mode=AmountMode.PAYER, amount=None, amount_min=2000)
    with app.test_request_context(method="POST"):
        form = PayForm.from_request(MultiDict({"name": " J ", "email": "   ", "amount": "5"}), service)
        assert isinstance(form, FlaskForm)
        assert list(form.messages) == ["name", "email", "amount"]
        assert form.messages["email"].startswith("Zadejte platnou e-mailovou adresu")
        form = PayForm.from_request(
            MultiDict({"name": " Jana Nováková ", "email": "jana@example.cz", "amount": "1 250,50 Kč"}), service
        )
        assert form.messages == {} and form.name.data == "Jana Nováková" and form.amount_value == 125050
        assert PayForm.from_request(
            MultiDict({"name": "Jana", "email": "jana@example", "amount": "50"}), service
        ).messages.keys() == {"email"}
