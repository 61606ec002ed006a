"""Importing a statement for an account: every new line stored once, matched by its rule
(``app.banking.matching``) and a payment recorded for every match through the one state
machine (``transition_payments``: created → paid, so receipts, obligations and the
monthly summary follow from its listeners) — all in one transaction: a refused
statement leaves nothing behind.

Set-based: the lines already imported, and the candidates of all lines, are found with a
few queries per statement (chunks of ``CHUNK`` symbols), never a query per line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import Session

from app.banking.errors import BankingError
from app.banking.matching import (
    Candidates,
    Decision,
    LineIn,
    ObligationCand,
    PaymentCand,
    ServiceCand,
    decide,
)
from app.banking.statements import Statement, StatementError, detect_and_parse
from app.banking.statements.model import normalise_account, normalise_bank_code, normalise_iban, split_czech_iban
from app.bulk import ids_in, insert_rows
from app.db import db_session, utcnow
from app.ids import new_external_ids
from app.models import (
    BANK_TRANSFER,
    BankAccount,
    BankLine,
    BankLineMatch,
    BankStatement,
    LineStatus,
    Obligation,
    Payment,
    PaymentState,
    Service,
    VariableSymbolRule,
)
from app.payments.transitions import create_payments_moved, transition_payments
from app.regions.scope import in_region
from app.webhooks_out.events import on_transfers_matched

CHUNK = 50_000


@dataclass(frozen=True)
class ImportResult:
    statement_id: int
    lines: int
    new_lines: int
    duplicates: int
    matched: int
    unmatched: int
    outgoing: int


def dedup_key(bank_id: str | None, checksum: str) -> str:
    return f"id:{bank_id}" if bank_id else f"sum:{checksum}"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- which account ---------------------------------------------------------------------------
def statement_account(statement: Statement) -> tuple[str | None, str | None, str | None]:
    """(account number, bank code, IBAN) the statement names, normalised."""
    iban = normalise_iban(statement.iban)
    number, bank = normalise_account(statement.account_number), normalise_bank_code(statement.bank_code)
    if iban and not number:
        number, bank = split_czech_iban(iban)
    return number, bank, iban


def find_account_for(statement: Statement, municipality_id: int | None, session: Session | None = None,
                     region_id: int | None = None) -> BankAccount:
    """The portal's account the statement is of, among ``municipality_id``'s (None: any
    municipality's of ``region_id``, for the operator; of any region, for the CLI);
    refused otherwise."""
    session = session or db_session()
    number, bank, iban = statement_account(statement)
    if not number and not iban:
        raise BankingError("no_account")
    stmt = select(BankAccount).where(BankAccount.active.is_(True))
    if number:
        stmt = stmt.where(BankAccount.account_number == number)
        if bank:
            stmt = stmt.where(BankAccount.bank_code == bank)
    else:
        stmt = stmt.where(BankAccount.iban == iban)
    if municipality_id is not None:
        stmt = stmt.where(BankAccount.municipality_id == municipality_id)
    elif region_id is not None:
        stmt = stmt.where(in_region(BankAccount.municipality_id, region_id))
    accounts = session.scalars(stmt).all()
    if len(accounts) != 1:
        shown = f"{number}/{bank}" if number and bank else (number or iban or "")
        raise BankingError("unknown_account", account=shown)
    return accounts[0]


def check_account(account: BankAccount, statement: Statement) -> None:
    number, bank, iban = statement_account(statement)
    same = (
        (number == account.account_number and (bank is None or bank == account.bank_code))
        if number
        else (iban is not None and iban == normalise_iban(account.iban))
    )
    if not same:
        shown = f"{number}/{bank}" if number and bank else (number or iban or "?")
        raise BankingError("unknown_account", account=shown)
    if statement.currency != account.currency:
        raise BankingError("wrong_currency", f"{statement.currency} ≠ {account.currency}")


def parse_upload(data: bytes, filename: str | None) -> Statement:
    try:
        return detect_and_parse(data, filename)
    except StatementError as exc:
        raise BankingError.from_statement(exc) from None


# -- the import ---------------------------------------------------------------------------------
def import_statement(
    account_id: int,
    statement: Statement,
    *,
    source: str,
    filename: str | None = None,
    imported_by: str | None = None,
    session: Session | None = None,
) -> ImportResult:
    """Store and match the statement's new lines. Does not commit: the caller commits
    (or rolls back on any error, and nothing is left)."""
    session = session or db_session()
    # One import per account at a time: the check for lines already stored stays true
    # until this transaction commits (the unique key is the last line of defence).
    account = session.execute(select(BankAccount).where(BankAccount.id == account_id).with_for_update()).scalar_one()
    check_account(account, statement)

    keys = [dedup_key(line.bank_id, line.checksum) for line in statement.lines]
    existing: set[str] = set()
    for chunk in _chunks(sorted(set(keys))):
        existing.update(
            session.scalars(
                select(BankLine.dedup_key).where(
                    BankLine.account_id == account.id, ids_in(BankLine.dedup_key, chunk, session, String)
                )
            )
        )
    new: list[tuple[str, Any]] = []
    for key, line in zip(keys, statement.lines, strict=True):
        if key not in existing:
            existing.add(key)
            new.append((key, line))

    row = BankStatement(
        account_id=account.id,
        municipality_id=account.municipality_id,
        source=source,
        source_format=statement.source_format,
        filename=(filename or "")[:255] or None,
        bank_statement_id=(statement.statement_id or "")[:100] or None,
        period_from=statement.period_from,
        period_to=statement.period_to,
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        line_count=len(statement.lines),
        new_lines=len(new),
        duplicate_lines=len(statement.lines) - len(new),
        total_credit=statement.total_credit,
        total_debit=statement.total_debit,
        imported_by=imported_by,
    )
    session.add(row)
    session.flush()

    ins = [
        LineIn(line.amount, line.currency, line.kind, line.variable_symbol, line.constant_symbol, line.specific_symbol)
        for _, line in new
    ]
    candidates = load_candidates(session, account, ins)
    decisions = [decide(line, candidates, account.currency) for line in ins]
    values = [
        {
            "account_id": account.id, "municipality_id": account.municipality_id, "statement_id": row.id,
            "dedup_key": key, "bank_id": (line.bank_id or None) and line.bank_id[:60],
            "booking_date": line.booking_date, "value_date": line.value_date, "amount": line.amount,
            "currency": line.currency, "kind": line.kind, "variable_symbol": line.variable_symbol,
            "constant_symbol": line.constant_symbol, "specific_symbol": line.specific_symbol,
            "counter_account": _clip(line.counter_account, 40), "counter_bank_code": _clip(line.counter_bank_code, 11),
            "counter_iban": _clip(line.counter_iban, 34), "counter_name": _clip(line.counter_name, 200),
            "message": _clip(line.message, 500),
        }
        for key, line in new
    ]  # fmt: skip
    record_lines(session, values, decisions)
    row.matched_count = sum(1 for d in decisions if d.status == LineStatus.MATCHED)
    row.unmatched_count = sum(1 for d in decisions if d.status == LineStatus.UNMATCHED)
    row.outgoing_count = sum(1 for d in decisions if d.status == LineStatus.OUTGOING)
    session.flush()
    return ImportResult(
        row.id, row.line_count, row.new_lines, row.duplicate_lines, row.matched_count, row.unmatched_count,
        row.outgoing_count,
    )  # fmt: skip


def _clip(text: str | None, size: int) -> str | None:
    return text[:size] if text else None


def load_candidates(session: Session, account: BankAccount, lines: Sequence[LineIn]) -> Candidates:
    """Everything these lines may match, in a few queries per ``CHUNK`` symbols."""
    m = account.municipality_id
    symbols = sorted({line.variable_symbol for line in lines if line.variable_symbol and line.amount > 0})
    candidates = Candidates(only_service=account.service_id)
    candidates.elsewhere = frozenset(
        session.scalars(
            select(BankAccount.service_id).where(
                BankAccount.municipality_id == m,
                BankAccount.service_id.is_not(None),
                BankAccount.id != account.id,
                BankAccount.active.is_(True),
            )
        )
    )
    by_id: dict[int, ObligationCand] = {}
    # Payer lists may write symbols with zeros in front; statements never keep them.
    vs_plain = func.ltrim(Obligation.variable_symbol, "0")
    for chunk in _chunks(symbols):
        for oid, sid, remaining, customer, vs, ks, ss in session.execute(
            select(
                Obligation.id, Obligation.service_id, Obligation.amount - Obligation.amount_paid,
                Obligation.customer_id, vs_plain, Service.constant_symbol, Obligation.specific_symbol,
            )
            .join(Service, Service.id == Obligation.service_id)
            .where(Obligation.municipality_id == m, ids_in(vs_plain, chunk, session, String))
        ):  # fmt: skip
            cand = ObligationCand(oid, sid, max(int(remaining), 0), customer, ks, ss)
            by_id[oid] = cand
            candidates.obligations.setdefault(vs, cand)
        for pid, sid, oid, amount, state, reference, vs, ks in session.execute(
            select(
                Payment.id, Payment.service_id, Payment.obligation_id, Payment.amount, Payment.state,
                Payment.gateway_reference, Payment.variable_symbol, Service.constant_symbol,
            )
            .join(Service, Service.id == Payment.service_id)
            .where(
                Payment.municipality_id == m,
                ids_in(Payment.variable_symbol, chunk, session, String),
                Payment.state.in_([PaymentState.CREATED, PaymentState.STARTED, PaymentState.EXPIRED]),
                Service.vs_rule == VariableSymbolRule.PER_PAYMENT,
            )
            .order_by(Payment.id.desc())
        ):  # fmt: skip
            at_gateway = state == PaymentState.STARTED or reference is not None
            candidates.payments.setdefault(vs, PaymentCand(pid, sid, oid, amount, state, at_gateway, ks))
    for sid, vs, amount, low, high, ks in session.execute(
        select(
            Service.id, Service.variable_symbol, Service.amount, Service.amount_min, Service.amount_max,
            Service.constant_symbol,
        ).where(
            Service.municipality_id == m, Service.vs_rule == VariableSymbolRule.FIXED,
            Service.variable_symbol.is_not(None),
        )
    ):  # fmt: skip
        key = (vs or "").lstrip("0")
        if key:
            candidates.services.setdefault(key, ServiceCand(sid, amount if amount else None, low, high, ks))

    # Payers who sent more than one obligation asks: perhaps all they owe, in one transfer.
    customers = sorted(
        {
            cand.customer_id
            for line in lines
            if line.variable_symbol
            and (cand := candidates.obligations.get(line.variable_symbol)) is not None
            and line.amount > cand.remaining
        }
    )
    for chunk in _chunks(customers):
        for oid, sid, remaining, customer, ks, ss in session.execute(
            select(
                Obligation.id, Obligation.service_id, Obligation.amount - Obligation.amount_paid,
                Obligation.customer_id, Service.constant_symbol, Obligation.specific_symbol,
            )
            .join(Service, Service.id == Obligation.service_id)
            .where(
                Obligation.municipality_id == m, ids_in(Obligation.customer_id, chunk, session, String),
                Obligation.amount > Obligation.amount_paid,
            )
            .order_by(Obligation.id)
        ):  # fmt: skip
            cand = by_id.setdefault(oid, ObligationCand(oid, sid, int(remaining), customer, ks, ss))
            candidates.by_payer.setdefault(customer, []).append(cand)
    return candidates


# -- recording -------------------------------------------------------------------------------------
def record_lines(session: Session, values: list[dict[str, Any]], decisions: Sequence[Decision]) -> list[int]:
    """Insert the lines with their decisions and record their payments. Returns line ids."""
    now = utcnow()
    for value, decision in zip(values, decisions, strict=True):
        value.update(
            status=decision.status, rule=decision.rule, overpayment=decision.overpayment,
            matched_at=now if decision.status == LineStatus.MATCHED else None,
        )  # fmt: skip
    line_ids = insert_rows(session, BankLine.__table__, values)
    record_payments(session, list(zip(line_ids, values, decisions, strict=True)))
    return line_ids


def record_payments(
    session: Session,
    items: Sequence[tuple[int, dict[str, Any], Decision]],
    *,
    manual_by: str | None = None,
    earlier_matches: int = 0,
) -> list[int]:
    """A payment for every allocation of the matched lines (new ones for obligations and
    services; a payment that waited for the transfer moves itself), created → paid through
    the state machine, all together. Returns the payment ids."""
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    new_for: list[tuple[int, int]] = []  # (line id, allocation amount) of each new row
    waiting: list[tuple[int, int, int]] = []  # (payment id, line id, amount)
    for line_id, value, decision in items:
        allocations = decision.allocations
        for n, allocation in enumerate(allocations, 1):
            # A line matched again after an undo gets references its first match did not use.
            single = len(allocations) == 1 and not earlier_matches
            reference = f"L{line_id}" if single else f"L{line_id}/{earlier_matches + n}"
            if allocation.payment_id is not None:
                waiting.append((allocation.payment_id, line_id, allocation.amount))
                session.execute(
                    update(Payment)
                    .where(Payment.id == allocation.payment_id)
                    .values(gateway_name=BANK_TRANSFER, gateway_reference=reference, updated_at=now)
                    .execution_options(synchronize_session="fetch")
                )
                continue
            new_rows.append(
                {
                    "external_id": "", "municipality_id": value["municipality_id"],
                    "service_id": allocation.service_id, "obligation_id": allocation.obligation_id,
                    "amount": allocation.amount, "amount_refunded": 0, "currency": value["currency"],
                    "payer_name": (value.get("counter_name") or "")[:200], "payer_email": "",
                    "variable_symbol": value.get("variable_symbol"), "state": PaymentState.CREATED,
                    "gateway_name": BANK_TRANSFER, "gateway_reference": reference, "created_at": now,
                    "updated_at": now,
                }
            )  # fmt: skip
            new_for.append((line_id, allocation.amount))
    for row, external_id in zip(new_rows, new_external_ids(len(new_rows)), strict=True):
        row["external_id"] = external_id
    by_line = {line_id: (value, decision) for line_id, value, decision in items}

    def detail(line_id: int) -> dict[str, Any]:
        value, decision = by_line[line_id]
        return {
            "bank_line": line_id, "rule": decision.rule, "counter_account": value.get("counter_account"),
            "counter_bank_code": value.get("counter_bank_code"), "counter_name": value.get("counter_name"),
            **({"staff": manual_by} if manual_by else {}),
        }  # fmt: skip

    reason = "bank transfer: " + ("manual match" if manual_by else "matched")
    # Waiting payments first (they exist), then the new ones: created → paid, each
    # through the table, the receipts, credits and summary from the listeners.
    if waiting:
        transition_payments(
            [pid for pid, _, _ in waiting], PaymentState.PAID, reason=reason,
            data={pid: detail(line_id) for pid, line_id, _ in waiting}, session=session,
        )  # fmt: skip
    payment_ids = create_payments_moved(
        new_rows, PaymentState.PAID, reason=reason, data=[detail(line_id) for line_id, _ in new_for], session=session
    )
    matches = [
        {"line_id": line_id, "payment_id": pid, "amount": amount}
        for pid, (line_id, amount) in zip(payment_ids, new_for, strict=True)
    ] + [{"line_id": line_id, "payment_id": pid, "amount": amount} for pid, line_id, amount in waiting]
    insert_rows(session, BankLineMatch.__table__, matches, ids=False)
    on_transfers_matched(session, [line_id for line_id, _, decision in items if decision.allocations])
    all_ids = [m["payment_id"] for m in matches]
    return all_ids
