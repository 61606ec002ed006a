"""Domain errors carry a code; app.errors maps every code to one translated message."""

from __future__ import annotations

import pytest

from app.citizens.consent import ConsentRequired, require_consent
from app.errors import DomainError
from app.messages import MESSAGES, message_for
from app.money import AmountError, parse_czk
from app.obligations.lookup import LookupInputError, normalize_lookup
from app.payments.errors import AmountRuleError, CardPaymentError, ObligationAmountError, PaymentError, RefundError


def test_each_error_class_has_its_domain_and_a_fallback_message() -> None:
    for cls in (PaymentError, AmountRuleError, ObligationAmountError, RefundError, CardPaymentError,
                LookupInputError, ConsentRequired, AmountError):
        assert issubclass(cls, DomainError)
        assert f"{cls.domain}.*" in MESSAGES or cls is ConsentRequired


def test_messages_by_code_with_params(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/?lang=cs"):
        refund = message_for(RefundError("refund_amount", max=12_345))
        assert refund.startswith("Částka k vrácení musí být kladná a nejvýše") and "123,45" in refund
        assert message_for(RefundError("gateway_error")).startswith("Platební brána vrácení odmítla")
        assert message_for(ObligationAmountError("below_min", 5000)).startswith("Zaplaťte alespoň 50")
        assert message_for(AmountRuleError("below_min", 5000)).startswith("Nejnižší možná částka je 50")
        with pytest.raises(AmountError) as exc:
            parse_czk("-5")
        assert message_for(exc.value) == "Částka nesmí být záporná."
        with pytest.raises(LookupInputError) as lookup:
            normalize_lookup("")
        assert message_for(lookup.value) == "Zadejte zákaznické číslo nebo variabilní symbol."
        with pytest.raises(ConsentRequired) as consent:
            require_consent(False)
        assert "souhlasit s obchodními podmínkami" in message_for(consent.value)
        require_consent(True)


def test_messages_are_translated(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/?lang=en"):
        text = message_for(RefundError("refund_reason"))
        assert text and text != "Uveďte důvod vrácení."


def test_an_error_without_a_message_is_a_bug_not_a_blank() -> None:
    class Unknown(DomainError):
        domain = "nowhere"

    with pytest.raises(KeyError):
        message_for(Unknown("x"))
