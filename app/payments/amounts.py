"""The amount rules of paying: a service's (fixed, or the payer's within limits) and an
obligation's (exact, at least or at most what remains)."""

from __future__ import annotations

from app.models import AmountMatch, AmountMode, Obligation, Service
from app.payments.errors import AmountRuleError, ObligationAmountError


def check_amount(service: Service, amount: int | None) -> int:
    """The amount a payment for this service must have, or AmountRuleError."""
    if service.amount_mode == AmountMode.FIXED:
        if not service.amount:
            raise AmountRuleError("no_price")
        return service.amount
    if amount is None:
        raise AmountRuleError("missing")
    if amount <= 0:
        raise AmountRuleError("not_positive")
    if service.amount_min is not None and amount < service.amount_min:
        raise AmountRuleError("below_min", service.amount_min)
    if service.amount_max is not None and amount > service.amount_max:
        raise AmountRuleError("above_max", service.amount_max)
    return amount


def check_obligation_amount(service: Service, obligation: Obligation, amount: int | None) -> int:
    """The amount to pay on an obligation under the service's amount_match rule."""
    remaining = obligation.remaining
    rule = service.amount_match
    if rule in (AmountMatch.EXACT, AmountMatch.AT_MOST) and remaining <= 0:
        raise ObligationAmountError("already_paid")
    if rule == AmountMatch.EXACT:
        return remaining
    if amount is None:
        raise ObligationAmountError("missing")
    if amount <= 0:
        raise ObligationAmountError("not_positive")
    if rule == AmountMatch.AT_LEAST and amount < remaining:
        raise ObligationAmountError("below_min", remaining)
    if rule == AmountMatch.AT_MOST and amount > remaining:
        raise ObligationAmountError("above_max", remaining)
    return amount
