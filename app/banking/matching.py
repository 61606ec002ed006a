"""Matching statement lines to what is owed: one rule per line, recorded with the line.

Pure: the importer loads the candidates for all lines of a statement in a few set-based
queries (``app.banking.importing``) and hands them here; ``decide`` returns what to record.

The rules, in order (the ``rule`` stored on the line):

- money out is never a payment: ``debit``, ``fee``, ``return`` (status outgoing);
- a line in another currency than the account's: ``wrong_currency`` (unmatched);
- no variable symbol: ``no_vs``; a symbol nobody uses: ``unknown_vs`` (unmatched);
- the VS of an obligation (předpis):
  - the constant symbol differs from the service's (when both are given): ``ks_mismatch``;
  - the obligation has a specific symbol (the municipality tells its payers apart by it)
    and the line does not carry the same one (leading zeros aside; missing counts as
    different): ``ss_mismatch``;
  - the obligation's service is paid to another account: ``other_account``;
  - nothing left to pay: ``already_paid`` (unmatched: the clerk decides, usually a return);
  - exactly what is left: ``obligation_exact``; less: ``obligation_partial`` (the rest stays
    owed); the sum of what the same payer (customer ID) still owes on several obligations:
    ``payer_sum`` (all of them paid); more: ``obligation_over`` (paid, the difference
    recorded as an overpayment to return);
- the VS of a payment waiting for a transfer (created, or expired, never sent to a gateway):
  ``payment_exact``, ``payment_over`` (overpayment to return); less: ``payment_short``;
  a payment that went to a card gateway: ``payment_at_gateway`` (unmatched: it may be paid
  twice);
- the fixed VS of a service (every payer uses it): its price ``service_exact``, more
  ``service_over``; less ``amount_short``; outside the range a payer may choose
  ``amount_out_of_range``.
- a clerk's match: ``manual``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.banking.statements.model import CREDIT
from app.models.banking import LineStatus

UNMATCHED_RULES = (
    "wrong_currency", "no_vs", "unknown_vs", "ks_mismatch", "ss_mismatch", "other_account", "already_paid",
    "payment_short", "payment_at_gateway", "amount_short", "amount_out_of_range", "undone",
)  # fmt: skip
MATCHED_RULES = (
    "obligation_exact", "obligation_partial", "obligation_over", "payer_sum", "payment_exact", "payment_over",
    "service_exact", "service_over", "manual",
)  # fmt: skip
OUTGOING_RULES = ("debit", "fee", "return")


@dataclass(frozen=True)
class LineIn:
    amount: int
    currency: str
    kind: str
    variable_symbol: str | None
    constant_symbol: str | None
    specific_symbol: str | None = None


@dataclass(eq=False)
class ObligationCand:
    id: int
    service_id: int
    remaining: int
    customer_id: str
    service_ks: str | None
    specific_symbol: str | None = None  # the obligation's SS, when it has one


@dataclass
class PaymentCand:
    id: int
    service_id: int
    obligation_id: int | None
    amount: int
    state: str
    at_gateway: bool
    service_ks: str | None
    used: bool = False


@dataclass(frozen=True)
class ServiceCand:
    id: int
    amount: int | None  # fixed price
    amount_min: int | None
    amount_max: int | None
    service_ks: str | None


@dataclass(frozen=True)
class Allocation:
    service_id: int
    amount: int
    obligation_id: int | None = None
    payment_id: int | None = None  # an existing payment (waiting for a transfer) to mark paid


@dataclass
class Decision:
    status: str
    rule: str
    overpayment: int = 0
    allocations: list[Allocation] = field(default_factory=list)


@dataclass
class Candidates:
    """Everything the lines of one statement may match, loaded in a few queries."""

    obligations: dict[str, ObligationCand] = field(default_factory=dict)  # by VS
    payments: dict[str, PaymentCand] = field(default_factory=dict)  # by VS
    services: dict[str, ServiceCand] = field(default_factory=dict)  # by the service's fixed VS
    # The open obligations of each payer (customer ID) an overpaying line may cover.
    by_payer: dict[str, list[ObligationCand]] = field(default_factory=dict)
    # Services paid to an account of their own (not this one).
    elsewhere: frozenset[int] = frozenset()
    # This account belongs to one service only: other services' symbols do not belong here.
    only_service: int | None = None


def _ks_differs(line: LineIn, service_ks: str | None) -> bool:
    return bool(service_ks and line.constant_symbol and line.constant_symbol != service_ks.zfill(4))


def _ss_differs(line: LineIn, obligation: ObligationCand) -> bool:
    if not obligation.specific_symbol:
        return False
    return (line.specific_symbol or "").lstrip("0") != obligation.specific_symbol.lstrip("0")


def _wrong_account(candidates: Candidates, service_id: int) -> bool:
    if candidates.only_service is not None:
        return service_id != candidates.only_service
    return service_id in candidates.elsewhere


def unmatched(rule: str) -> Decision:
    return Decision(LineStatus.UNMATCHED, rule)


def decide(line: LineIn, candidates: Candidates, account_currency: str = "CZK") -> Decision:
    """The rule for one line. Updates ``candidates`` (what is left to pay, payments used)
    so that the next line of the same statement sees this one's effect."""
    if line.amount <= 0 or line.kind != CREDIT:
        return Decision(LineStatus.OUTGOING, line.kind if line.kind in OUTGOING_RULES else "debit")
    if line.currency != account_currency:
        return unmatched("wrong_currency")
    vs = line.variable_symbol
    if not vs:
        return unmatched("no_vs")
    obligation = candidates.obligations.get(vs)
    if obligation is not None:
        return _to_obligation(line, obligation, candidates)
    payment = candidates.payments.get(vs)
    if payment is not None and not payment.used:
        return _to_payment(line, payment, candidates)
    service = candidates.services.get(vs)
    if service is not None:
        return _to_service(line, service, candidates)
    return unmatched("unknown_vs")


def _to_obligation(line: LineIn, obligation: ObligationCand, candidates: Candidates) -> Decision:
    if _ks_differs(line, obligation.service_ks):
        return unmatched("ks_mismatch")
    if _ss_differs(line, obligation):
        return unmatched("ss_mismatch")
    if _wrong_account(candidates, obligation.service_id):
        return unmatched("other_account")
    if obligation.remaining <= 0:
        return unmatched("already_paid")
    amount = line.amount
    if amount <= obligation.remaining:
        obligation.remaining -= amount
        rule = "obligation_exact" if obligation.remaining == 0 else "obligation_partial"
        return Decision(LineStatus.MATCHED, rule, 0, [Allocation(obligation.service_id, amount, obligation.id)])
    group = [
        o for o in candidates.by_payer.get(obligation.customer_id, ())
        if o.remaining > 0 and not _wrong_account(candidates, o.service_id)
    ]  # fmt: skip
    if len(group) > 1 and obligation in group and sum(o.remaining for o in group) == amount:
        allocations = [Allocation(o.service_id, o.remaining, o.id) for o in sorted(group, key=lambda o: o.id)]
        for o in group:
            o.remaining = 0
        return Decision(LineStatus.MATCHED, "payer_sum", 0, allocations)
    paid = obligation.remaining
    obligation.remaining = 0
    return Decision(
        LineStatus.MATCHED, "obligation_over", amount - paid, [Allocation(obligation.service_id, paid, obligation.id)]
    )


def _to_payment(line: LineIn, payment: PaymentCand, candidates: Candidates) -> Decision:
    if _ks_differs(line, payment.service_ks):
        return unmatched("ks_mismatch")
    if _wrong_account(candidates, payment.service_id):
        return unmatched("other_account")
    if payment.at_gateway:
        return unmatched("payment_at_gateway")
    if line.amount < payment.amount:
        return unmatched("payment_short")
    payment.used = True
    allocation = Allocation(payment.service_id, payment.amount, payment.obligation_id, payment.id)
    if line.amount == payment.amount:
        return Decision(LineStatus.MATCHED, "payment_exact", 0, [allocation])
    return Decision(LineStatus.MATCHED, "payment_over", line.amount - payment.amount, [allocation])


def _to_service(line: LineIn, service: ServiceCand, candidates: Candidates) -> Decision:
    if _ks_differs(line, service.service_ks):
        return unmatched("ks_mismatch")
    if _wrong_account(candidates, service.id):
        return unmatched("other_account")
    if service.amount is not None:
        if line.amount < service.amount:
            return unmatched("amount_short")
        rule = "service_exact" if line.amount == service.amount else "service_over"
        return Decision(
            LineStatus.MATCHED, rule, line.amount - service.amount, [Allocation(service.id, service.amount)]
        )
    if (service.amount_min is not None and line.amount < service.amount_min) or (
        service.amount_max is not None and line.amount > service.amount_max
    ):
        return unmatched("amount_out_of_range")
    return Decision(LineStatus.MATCHED, "service_exact", 0, [Allocation(service.id, line.amount)])


def decide_all(lines: Sequence[LineIn], candidates: Candidates, account_currency: str = "CZK") -> list[Decision]:
    return [decide(line, candidates, account_currency) for line in lines]


def allocation_total(decisions: Mapping[int, Decision]) -> int:
    return sum(a.amount for d in decisions.values() for a in d.allocations)
