"""camt.053 (ISO 20022 ``BkToCstmrStmt``, versions .001.02 to .001.08) as Czech banks
export it, read with a defused lxml parser (no entities, no network, no huge trees).

Czech banks carry the symbols in ``RmtInf/Strd/CdtrRefInf/Ref`` or in the references
(``EndToEndId``, ``InstrId``) as ``VS:123`` or ``/VS/123/SS/456/KS/0308``; both are read.
Counter-accounts come as an IBAN or as ``Othr/Id`` with the bank code in the agent's
``Othr/Id`` or ``ClrSysMmbId/MmbId``."""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from .model import (
    FEE,
    RETURN,
    Statement,
    StatementError,
    StatementLine,
    check_size,
    finish_statement,
    first,
    merge_statements,
    normalise_account,
    normalise_bank_code,
    normalise_iban,
    normalise_ks,
    normalise_vs,
    parse_amount,
    split_czech_iban,
    symbols_in,
)

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.0[2-8]$")


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )


class _Reader:
    """XPath with the document's own camt.053 namespace bound to ``c``."""

    def __init__(self, namespace: str) -> None:
        self.ns = {"c": namespace}

    def all(self, node: etree._Element, path: str) -> list[etree._Element]:
        return node.xpath(path, namespaces=self.ns)

    def text(self, node: etree._Element, path: str) -> str | None:
        found = node.xpath(path, namespaces=self.ns)
        if not found:
            return None
        value = found[0] if isinstance(found[0], str) else found[0].text
        return value if value is None else str(value).strip() or None

    def date(self, node: etree._Element, path: str, number: int | None = None) -> date | None:
        # <Dt> or <DtTm>; the date part is what the bank booked on.
        value = self.text(node, f"{path}/c:Dt") or self.text(node, f"{path}/c:DtTm")
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise StatementError("bad_line", f"not a date: {value!r}", number) from None


def parse_camt053(data: bytes) -> Statement:
    check_size(data)
    data = bytes(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "encoding" in message.lower() or "Input is not proper UTF-8" in message or "Char 0x" in message:
            raise StatementError("wrong_encoding", f"the XML is not in its declared encoding: {message}") from None
        if "Premature end" in message or "EndTag" in message or "end of data" in message or "not closed" in message:
            raise StatementError("truncated", f"the XML ends too early: {message}", exc.lineno) from None
        raise StatementError("wrong_format", f"not well-formed XML: {message}", exc.lineno) from None
    if root.getroottree().docinfo.doctype:
        # No bank sends a DTD; one in an upload is an attempt at entity tricks.
        raise StatementError("wrong_format", "a camt.053 statement has no DOCTYPE")
    if isinstance(root.tag, str):
        namespace = etree.QName(root).namespace or ""
    else:
        namespace = ""
    if not _NAMESPACE.match(namespace):
        raise StatementError("wrong_format", f"not a camt.053 statement (namespace {namespace or 'none'})")
    reader = _Reader(namespace)
    statements = reader.all(root, "c:BkToCstmrStmt/c:Stmt")
    if not statements:
        raise StatementError("wrong_format", "a camt.053 document without a statement (Stmt)")
    return merge_statements([_statement(reader, node) for node in statements])


def _balance(reader: _Reader, stmt: etree._Element, codes: tuple[str, ...]) -> tuple[int | None, str | None]:
    for code in codes:
        for bal in reader.all(stmt, "c:Bal"):
            if reader.text(bal, "c:Tp/c:CdOrPrtry/c:Cd") == code:
                amount = parse_amount(reader.text(bal, "c:Amt") or "")
                if reader.text(bal, "c:CdtDbtInd") == "DBIT":
                    amount = -amount
                return amount, reader.all(bal, "c:Amt/@Ccy")[0] if reader.all(bal, "c:Amt/@Ccy") else None
    return None, None


def _statement(reader: _Reader, stmt: etree._Element) -> Statement:
    iban = normalise_iban(reader.text(stmt, "c:Acct/c:Id/c:IBAN"))
    account, bank_code = split_czech_iban(iban)
    if account is None:
        account = normalise_account(reader.text(stmt, "c:Acct/c:Id/c:Othr/c:Id"))
        bank_code = normalise_bank_code(reader.text(stmt, "c:Acct/c:Svcr/c:FinInstnId/c:Othr/c:Id"))
    opening, opening_ccy = _balance(reader, stmt, ("OPBD", "PRCD"))
    closing, closing_ccy = _balance(reader, stmt, ("CLBD",))
    currency = reader.text(stmt, "c:Acct/c:Ccy") or opening_ccy or closing_ccy
    if not currency:
        raise StatementError("wrong_format", "the statement names no currency")
    for balance_ccy in (opening_ccy, closing_ccy):
        if balance_ccy and balance_ccy != currency:
            raise StatementError("wrong_currency", f"a balance in {balance_ccy} on a {currency} account")
    lines = [_line(reader, entry, number, currency) for number, entry in enumerate(reader.all(stmt, "c:Ntry"), 1)]
    from_text = reader.text(stmt, "c:FrToDt/c:FrDtTm")
    to_text = reader.text(stmt, "c:FrToDt/c:ToDtTm")
    period_from = _iso_date(from_text)
    period_to = _iso_date(to_text)
    return finish_statement(
        Statement(
            source_format="camt053",
            currency=currency,
            opening_balance=opening,
            closing_balance=closing,
            lines=tuple(line for line in lines if line is not None),
            account_number=account,
            bank_code=bank_code,
            iban=iban,
            statement_id=reader.text(stmt, "c:LglSeqNb")
            or reader.text(stmt, "c:ElctrncSeqNb")
            or reader.text(stmt, "c:Id"),
            period_from=period_from,
            period_to=period_to,
            extra={"camt_id": reader.text(stmt, "c:Id") or ""},
        )
    )


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementError("bad_line", f"not a date: {text!r}") from None


def _line(reader: _Reader, entry: etree._Element, number: int, currency: str) -> StatementLine | None:
    status = reader.text(entry, "c:Sts") or reader.text(entry, "c:Sts/c:Cd")
    if status and status not in ("BOOK",):
        return None  # pending or informational entries do not move the booked balance
    amount_text = reader.text(entry, "c:Amt")
    ccy = reader.all(entry, "c:Amt/@Ccy")
    if amount_text is None:
        raise StatementError("bad_line", "an entry without an amount", number)
    amount = parse_amount(amount_text, line=number)
    indicator = reader.text(entry, "c:CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError("bad_line", f"credit/debit indicator {indicator!r}", number)
    reversal = reader.text(entry, "c:RvslInd") == "true"
    signed = amount if indicator == "CRDT" else -amount
    booking = reader.date(entry, "c:BookgDt", number) or reader.date(entry, "c:ValDt", number)
    if booking is None:
        raise StatementError("bad_line", "an entry without a booking date", number)
    tx = (reader.all(entry, "c:NtryDtls/c:TxDtls") or [entry])[0]
    # A reversal is booked on the other side, but the counter-party keeps its role.
    incoming = (indicator == "CRDT") != reversal
    # The counter-party is the debtor of an incoming payment and the creditor of an outgoing one.
    party = "Dbtr" if incoming else "Cdtr"
    name = first(
        reader.text(tx, f"c:RltdPties/c:{party}/{path}")
        for path in ("c:Nm", "c:Pty/c:Nm")  # v08 nests the party one level deeper
    )
    iban = normalise_iban(reader.text(tx, f"c:RltdPties/c:{party}Acct/c:Id/c:IBAN"))
    counter_account, counter_bank = split_czech_iban(iban)
    if counter_account is None:
        counter_account = normalise_account(reader.text(tx, f"c:RltdPties/c:{party}Acct/c:Id/c:Othr/c:Id"))
        counter_bank = normalise_bank_code(
            first(
                reader.text(tx, f"c:RltdAgts/c:{party}Agt/c:FinInstnId/{path}")
                for path in ("c:Othr/c:Id", "c:ClrSysMmbId/c:MmbId")
            )
        )
    refs = [
        reader.text(tx, "c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref"),
        reader.text(tx, "c:Refs/c:EndToEndId"),
        reader.text(tx, "c:Refs/c:InstrId"),
        reader.text(tx, "c:Refs/c:PmtInfId"),
    ]
    message = " ".join(t.strip() for t in reader.all(tx, "c:RmtInf/c:Ustrd/text()") if t.strip()) or None
    found = symbols_in(*refs, message)
    vs = found.get("VS")
    cref = refs[0]
    if vs is None and cref and cref.isdigit():
        vs = cref  # a bare creditor reference is the variable symbol
    family = reader.text(entry, "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd") or ""
    proprietary = (reader.text(entry, "c:BkTxCd/c:Prtry/c:Cd") or "").lower()
    returned = reversal or family in ("RRTN", "RPCR") or bool(reader.all(tx, "c:RtrInf"))
    fee = family in ("CHRG", "FEES", "COMM") or "poplat" in proprietary
    line_currency = ccy[0] if ccy else currency
    return StatementLine(
        bank_id=reader.text(entry, "c:AcctSvcrRef") or reader.text(tx, "c:Refs/c:AcctSvcrRef"),
        booking_date=booking,
        value_date=reader.date(entry, "c:ValDt", number),
        amount=signed,
        currency=line_currency,
        variable_symbol=normalise_vs(vs),
        constant_symbol=normalise_ks(found.get("KS")),
        specific_symbol=normalise_vs(found.get("SS")),
        counter_account=counter_account,
        counter_bank_code=counter_bank,
        counter_iban=iban,
        counter_name=name,
        message=message,
        kind=RETURN if returned else FEE if fee and signed < 0 else ("credit" if signed >= 0 else "debit"),
    )
