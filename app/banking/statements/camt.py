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
    Statement,
    StatementError,
    StatementLine,
    check_size,
    finish_statement,
    kind_for,
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

    # find/findtext (ElementPath, cached per path) rather than xpath(): several times
    # faster on 100,000 entries.
    def all(self, node: etree._Element, path: str) -> list[etree._Element]:
        return node.findall(path, self.ns)

    def text(self, node: etree._Element, path: str) -> str | None:
        found = node.find(path, self.ns)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def attr(self, node: etree._Element, path: str, name: str) -> str | None:
        found = node.find(path, self.ns)
        return None if found is None else found.get(name)


def parse_camt053(data: bytes) -> Statement:
    check_size(data)
    data = bytes(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "encoding" in message.lower() or "Input is not proper UTF-8" in message or "Char 0x" in message:
            raise StatementError("wrong_encoding", f"the XML is not in its declared encoding: {message}") from None
        # A cut-off file fails on its very last line, whatever the parser calls it.
        last_line = data.rstrip().count(b"\n") + 1
        if "Premature end" in message or (exc.lineno or 0) >= last_line:
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
    entries = [len(reader.all(node, "c:Ntry")) for node in statements]
    records = iter(_records(root, namespace, sum(entries)))
    return merge_statements(
        [
            _statement(reader, node, [next(records) for _ in range(count)])
            for node, count in zip(statements, entries, strict=True)
        ]
    )


def _balance(reader: _Reader, stmt: etree._Element, codes: tuple[str, ...]) -> tuple[int | None, str | None]:
    for code in codes:
        for bal in reader.all(stmt, "c:Bal"):
            if reader.text(bal, "c:Tp/c:CdOrPrtry/c:Cd") == code:
                amount = parse_amount(reader.text(bal, "c:Amt") or "")
                if reader.text(bal, "c:CdtDbtInd") == "DBIT":
                    amount = -amount
                return amount, reader.attr(bal, "c:Amt", "Ccy")
    return None, None


def _statement(reader: _Reader, stmt: etree._Element, records: list[list[str]]) -> Statement:
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
    lines = [_line(record, number, currency) for number, record in enumerate(records, 1)]
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


# The entries are read in one XSLT pass (libxslt, in C) that writes each entry as one
# record of fields: several times faster than a Python lookup per field on 100,000
# entries. The separators are private-use characters; a statement that itself contains
# them is refused (see _records).
_FIELD, _RECORD = "\ue000", "\ue001"
_T = "$t/c:"
_FIELDS = (
    "normalize-space(c:Sts)",  # "BOOK"; v08 wraps it in <Cd>
    "c:Amt",
    "c:Amt/@Ccy",
    "c:CdtDbtInd",
    "c:RvslInd",
    "normalize-space(c:BookgDt)",  # <Dt> or <DtTm>
    "normalize-space(c:ValDt)",
    "c:AcctSvcrRef",
    f"{_T}Refs/c:AcctSvcrRef",
    "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd",
    "c:BkTxCd/c:Prtry/c:Cd",
    # debtor, then creditor: name (v08 nests it in Pty), IBAN, other id, the bank's code
    *(
        field
        for party in ("Dbtr", "Cdtr")
        for field in (
            f"({_T}RltdPties/c:{party}/c:Nm | {_T}RltdPties/c:{party}/c:Pty/c:Nm)",
            f"{_T}RltdPties/c:{party}Acct/c:Id/c:IBAN",
            f"{_T}RltdPties/c:{party}Acct/c:Id/c:Othr/c:Id",
            f"({_T}RltdAgts/c:{party}Agt/c:FinInstnId/c:Othr/c:Id"
            f" | {_T}RltdAgts/c:{party}Agt/c:FinInstnId/c:ClrSysMmbId/c:MmbId)",
        )
    ),
    f"{_T}RmtInf/c:Strd/c:CdtrRefInf/c:Ref",
    f"{_T}Refs/c:EndToEndId",
    f"{_T}Refs/c:InstrId",
    f"{_T}Refs/c:PmtInfId",
    f"count({_T}RtrInf)",
    f"count({_T}RmtInf/c:Ustrd)",  # as many fields follow: lets _records count every separator
)


def _stylesheet(namespace: str) -> etree.XSLT:
    # A fresh stylesheet per call (about a millisecond): XSLT objects are not shared
    # between threads, and no extension, file or network access is allowed.
    fields = "".join(f'<xsl:value-of select="{f}"/><xsl:text>{_FIELD}</xsl:text>' for f in _FIELDS)
    text = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:c="{namespace}">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:for-each select="c:Document/c:BkToCstmrStmt/c:Stmt/c:Ntry">
<xsl:variable name="t" select="(c:NtryDtls/c:TxDtls)[1] | self::c:Ntry[not(c:NtryDtls/c:TxDtls)]"/>
{fields}<xsl:for-each select="$t/c:RmtInf/c:Ustrd"><xsl:value-of select="."/><xsl:text>{_FIELD}</xsl:text></xsl:for-each>
<xsl:text>{_RECORD}</xsl:text></xsl:for-each></xsl:template></xsl:stylesheet>"""
    return etree.XSLT(etree.fromstring(text.encode()), access_control=etree.XSLTAccessControl.DENY_ALL)


def _records(root: etree._Element, namespace: str, expected: int) -> list[list[str]]:
    output = str(_stylesheet(namespace)(root.getroottree()))
    records = [record.split(_FIELD) for record in output.split(_RECORD)[:-1]]
    if len(records) != expected or any(
        not record[len(_FIELDS) - 1].isdigit() or len(record) != len(_FIELDS) + int(record[len(_FIELDS) - 1]) + 1
        for record in records
    ):
        raise StatementError("bad_line", "the statement contains the private-use characters U+E000/U+E001")
    return records


def _day(value: str, number: int) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise StatementError("bad_line", f"not a date: {value!r}", number) from None


def _line(record: list[str], number: int, currency: str) -> StatementLine | None:
    (status, amount_text, amount_ccy, indicator, reversal_text, booked, valued, entry_ref, tx_ref, family,
     proprietary, *parties, creditor_ref, end_to_end, instruction, payment_info, returns, _) = record[: len(_FIELDS)]  # fmt: skip
    unstructured = record[len(_FIELDS) : -1]
    if status and status != "BOOK":
        return None  # pending or informational entries do not move the booked balance
    if not amount_text.strip():
        raise StatementError("bad_line", "an entry without an amount", number)
    amount = parse_amount(amount_text, line=number)
    if indicator.strip() not in ("CRDT", "DBIT"):
        raise StatementError("bad_line", f"credit/debit indicator {indicator!r}", number)
    reversal = reversal_text.strip() == "true"
    signed = amount if indicator.strip() == "CRDT" else -amount
    booking = _day(booked, number) or _day(valued, number)
    if booking is None:
        raise StatementError("bad_line", "an entry without a booking date", number)
    # A reversal is booked on the other side, but the counter-party keeps its role: the
    # debtor of an incoming payment, the creditor of an outgoing one.
    incoming = (indicator.strip() == "CRDT") != reversal
    name, iban_text, other_id, agent = parties[0:4] if incoming else parties[4:8]
    iban = normalise_iban(iban_text)
    counter_account, counter_bank = split_czech_iban(iban)
    if counter_account is None:
        counter_account = normalise_account(other_id)
        counter_bank = normalise_bank_code(agent)
    message = " ".join(u.strip() for u in unstructured if u.strip()) or None
    refs = (creditor_ref.strip(), end_to_end, instruction, payment_info)
    found = symbols_in(*refs, message)
    vs = found.get("VS")
    if vs is None and refs[0].isdigit():
        vs = refs[0]  # a bare creditor reference is the variable symbol
    family = family.strip()
    returned = reversal or family in ("RRTN", "RPCR") or returns != "0"
    fee = family in ("CHRG", "FEES", "COMM") or "poplat" in proprietary.lower()
    return StatementLine(
        bank_id=entry_ref.strip() or tx_ref.strip() or None,
        booking_date=booking,
        value_date=_day(valued, number),
        amount=signed,
        currency=amount_ccy.strip() or currency,
        variable_symbol=normalise_vs(vs),
        constant_symbol=normalise_ks(found.get("KS")),
        specific_symbol=normalise_vs(found.get("SS")),
        counter_account=counter_account,
        counter_bank_code=counter_bank,
        counter_iban=iban,
        counter_name=name.strip() or None,
        message=message,
        kind=kind_for(signed, fee=fee, returned=returned),
    )
