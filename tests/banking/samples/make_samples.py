"""Writes the sample statements in this folder, each format by hand from its specification
(no parser of ours involved). One account, one week, the same eight movements in every
format; the broken variants next to them. Run it to regenerate:

    .venv/bin/python tests/banking/samples/make_samples.py

The movements (haléře; our account 2801234578/2010, CZ0520100000002801234578):
  1  2.11. +150000 Dvořák Jan        19-2000145399/0800  VS 2026000123 KS 0558
  2  2.11.  +69000 Černá Marie       1234567805/0100     VS 2026000124
  3  3.11. +200000 Šťastný Jiří      180123453/0300      VS 2026000456 SS 42
  4  3.11.  +35000 Řeháková Žaneta   1052345670/5500     VS 2026000789
  5  4.11. +100000 Kůň Ondřej        1071234503/6100     VS 77 KS 0308 (unknown VS)
  6  4.11.  -50000 Šťastný Jiří      180123453/0300      return: a credit cancelled by the bank
  7  5.11.   -4500 bank fee (no counter-account)
  8  5.11. +120000 Nováková Pavla    2100234567/2010     VS 2026000124
Opening 12543050, closing 13162550."""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
OPENING, CLOSING = 12543050, 13162550
MOVES = [
    # id, day, amount, name, prefix, number, bank, vs, ks, ss, message, kind
    (
        "26512340001",
        2,
        150000,
        "Dvořák Jan",
        "19",
        "2000145399",
        "0800",
        "2026000123",
        "0558",
        "",
        "Poplatek za psa 2026",
        "credit",
    ),
    ("26512340002", 2, 69000, "Černá Marie", "", "1234567805", "0100", "2026000124", "", "", "Odpady Černá", "credit"),
    (
        "26512340003",
        3,
        200000,
        "Šťastný Jiří",
        "",
        "180123453",
        "0300",
        "2026000456",
        "",
        "42",
        "Odpady 2026 - 2 osoby",
        "credit",
    ),
    (
        "26512340004",
        3,
        35000,
        "Řeháková Žaneta",
        "",
        "1052345670",
        "5500",
        "2026000789",
        "",
        "",
        "Vodné Řeháková",
        "credit",
    ),
    ("26512340005", 4, 100000, "Kůň Ondřej", "", "1071234503", "6100", "77", "0308", "", "Nájem hrobu", "credit"),
    (
        "26512340006",
        4,
        -50000,
        "Šťastný Jiří",
        "",
        "180123453",
        "0300",
        "2026000456",
        "",
        "",
        "Storno platby",
        "return",
    ),
    ("26512340007", 5, -4500, "Poplatek za vedení", "", "", "", "", "", "", "Poplatek za vedení účtu", "fee"),
    ("26512340008", 5, 120000, "Nováková Pavla", "", "2100234567", "2010", "2026000124", "", "", "Psi 2 ks", "credit"),
]
IBANS = {
    "0800": "CZ6508000000192000145399",
    "0100": "CZ1401000000001234567805",
    "0300": "CZ4903000000000180123453",
    "5500": "CZ5855000000001052345670",
}


def kc(amount: int) -> str:
    return f"{abs(amount) // 100}.{abs(amount) % 100:02d}"


# -- GPC -------------------------------------------------------------------------------------
def gpc(opening: int = OPENING, closing: int = CLOSING) -> bytes:
    debit = sum(-m[2] for m in MOVES if m[2] < 0)
    credit = sum(m[2] for m in MOVES if m[2] > 0)
    header = (
        "074"
        + "0000002801234578"
        + "Obec Světlá p. Ješt.".ljust(20)
        + "011126"
        + f"{abs(opening):014d}"
        + ("-" if opening < 0 else "+")
        + f"{abs(closing):014d}"
        + ("-" if closing < 0 else "+")
        + f"{debit:014d}"
        + "0"
        + f"{credit:014d}"
        + "0"
        + "005"
        + "061126"
        + " " * 14
    )
    rows = [header]
    for mid, day, amount, name, prefix, number, bank, vs, ks, ss, message, kind in MOVES:
        code = "5" if kind == "return" else ("2" if amount > 0 else "1")
        counter = (prefix.zfill(6) + number.zfill(10)) if number else "0" * 16
        row = (
            "075"
            + "0000002801234578"
            + counter
            + mid.zfill(13)
            + f"{abs(amount):012d}"
            + code
            + vs.zfill(10)
            + "00"
            + (bank or "0000")
            + ks.zfill(4)
            + ss.zfill(10)
            + f"{day:02d}1126"
            + name[:20].ljust(20)
            + "0"
            + "0203"
            + f"{day:02d}1126"
        )
        rows.append(row)
        rows.append(("078" + message[:35].ljust(35) + "".ljust(35)).ljust(128))
    for row in rows:
        assert len(row) == 128, (len(row), row)
    return ("\r\n".join(rows) + "\r\n").encode("cp1250")


# -- camt.053 --------------------------------------------------------------------------------
def camt(version: str = "02", currency: str = "CZK", closing: int = CLOSING, line_currency: str | None = None) -> bytes:
    v8 = version >= "04"
    entries = []
    for mid, day, amount, name, prefix, number, bank, vs, ks, ss, message, kind in MOVES:
        incoming = amount > 0 or kind == "return"
        party = "Dbtr" if incoming else "Cdtr"
        name_xml = f"<Pty><Nm>{name}</Nm></Pty>" if v8 else f"<Nm>{name}</Nm>"
        account = (
            f"<Id><IBAN>{IBANS[bank]}</IBAN></Id>"
            if bank in IBANS
            else f"<Id><Othr><Id>{(prefix + '-' if prefix else '') + number}</Id></Othr></Id>"
        )
        agent = f"<RltdAgts><{party}Agt><FinInstnId><Othr><Id>{bank}</Id></Othr></FinInstnId></{party}Agt></RltdAgts>"
        refs = f"<EndToEndId>/VS/{vs}/SS/{ss}/KS/{ks}</EndToEndId>" if vs and (ss or ks) else ""
        if vs and not refs:
            refs = "<EndToEndId>NOTPROVIDED</EndToEndId>"
        strd = (
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>VS:{vs}</Ref></CdtrRefInf></Strd>"
            if vs and not (ss or ks)
            else ""
        )
        family = {"fee": ("ACMT", "MDOP", "CHRG"), "return": ("PMNT", "RCDT", "RRTN")}.get(
            kind, ("PMNT", "RCDT" if amount > 0 else "ICDT", "DMCT")
        )
        parties = (
            ""
            if kind == "fee"
            else f"<RltdPties><{party}>{name_xml}</{party}><{party}Acct>{account}</{party}Acct></RltdPties>{agent}"
        )
        ccy = line_currency if (line_currency and mid.endswith("4")) else currency
        status = "<Sts><Cd>BOOK</Cd></Sts>" if v8 else "<Sts>BOOK</Sts>"
        entries.append(
            f"""
      <Ntry>
        <NtryRef>{mid}</NtryRef>
        <Amt Ccy="{ccy}">{kc(amount)}</Amt>
        <CdtDbtInd>{"CRDT" if amount > 0 else "DBIT"}</CdtDbtInd>
        {"<RvslInd>true</RvslInd>" if kind == "return" else ""}
        {status}
        <BookgDt><Dt>2026-11-{day:02d}</Dt></BookgDt>
        <ValDt><Dt>2026-11-{day:02d}</Dt></ValDt>
        <AcctSvcrRef>{mid}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>{family[0]}</Cd><Fmly><Cd>{family[1]}</Cd><SubFmlyCd>{family[2]}</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>{mid}</AcctSvcrRef>{refs}</Refs>
          <AmtDtls><TxAmt><Amt Ccy="{ccy}">{kc(amount)}</Amt></TxAmt></AmtDtls>
          {parties}
          <RmtInf><Ustrd>{message}</Ustrd>{strd}</RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""
        )
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>2801234578-20261106</MsgId><CreDtTm>2026-11-06T23:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>2801234578-2026-005</Id>
      <ElctrncSeqNb>5</ElctrncSeqNb>
      <LglSeqNb>5</LglSeqNb>
      <CreDtTm>2026-11-06T23:00:00+01:00</CreDtTm>
      <FrToDt><FrDtTm>2026-11-02T00:00:00+01:00</FrDtTm><ToDtTm>2026-11-06T23:59:59+01:00</ToDtTm></FrToDt>
      <Acct>
        <Id><IBAN>CZ0520100000002801234578</IBAN></Id>
        <Ccy>{currency}</Ccy>
        <Ownr><Nm>Obec Světlá pod Ještědem</Nm></Ownr>
        <Svcr><FinInstnId><BIC>FIOBCZPPXXX</BIC></FinInstnId></Svcr>
      </Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{kc(OPENING)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{kc(closing)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-06</Dt></Dt></Bal>
      <TxsSummry><TtlNtries><NbOfNtries>{len(MOVES)}</NbOfNtries></TtlNtries></TxsSummry>{"".join(entries)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


# -- MT940 -----------------------------------------------------------------------------------
def mt940(closing: int = CLOSING) -> bytes:
    rows = [
        ":20:2801234578005",
        ":25:CZ0520100000002801234578",
        ":28C:5/1",
        f":60F:C261101CZK{kc(OPENING).replace('.', ',')}",
    ]
    for mid, day, amount, name, prefix, number, bank, vs, ks, ss, message, kind in MOVES:
        mark = "RC" if kind == "return" else ("C" if amount > 0 else "D")
        code = {"fee": "NCHG", "return": "NRTI"}.get(kind, "NTRF")
        rows.append(f":61:2611{day:02d}11{day:02d}{mark}{kc(amount).replace('.', ',')}{code}NONREF//{mid}")
        symbols = "".join(f"/{k}/{v}" for k, v in (("VS", vs), ("SS", ss), ("KS", ks)) if v)
        account = f"?31{(prefix + '-' if prefix else '') + number}/{bank}" if number else ""
        rows.append(f":86:{symbols}?20{message}")
        if account or kind != "fee":
            rows.append(f"{account}?32{name}")
    rows.append(f":62F:C261106CZK{kc(closing).replace('.', ',')}")
    rows.append("-")
    return ("\r\n".join(rows) + "\r\n").encode()


# -- Fio API JSON ----------------------------------------------------------------------------
COLUMN_NAMES = {
    0: "Datum",
    1: "Objem",
    2: "Protiúčet",
    3: "Kód banky",
    4: "KS",
    5: "VS",
    6: "SS",
    7: "Uživatelská identifikace",
    8: "Typ",
    9: "Provedl",
    10: "Název protiúčtu",
    12: "Název banky",
    14: "Měna",
    16: "Zpráva pro příjemce",
    17: "ID pokynu",
    22: "ID pohybu",
    25: "Komentář",
    26: "BIC",
}


def fio_transaction(move: tuple) -> dict:
    mid, day, amount, name, prefix, number, bank, vs, ks, ss, message, kind = move
    values = {
        0: f"2026-11-{day:02d}+0100",
        1: money(amount),
        2: ((prefix + "-" if prefix else "") + number) or None,
        3: bank or None,
        4: ks or None,
        5: vs or None,
        6: ss or None,
        7: message,
        8: {"fee": "Poplatek", "return": "Vrácení platby"}.get(kind, "Bezhotovostní příjem"),
        10: None if kind == "fee" else name,
        14: "CZK",
        16: message,
        17: int(mid) + 900000,
        22: int(mid),
    }
    return {
        f"column{i}": (None if values.get(i) is None else {"value": values[i], "name": COLUMN_NAMES[i], "id": i})
        for i in COLUMN_NAMES
    }


def fio(moves: list | None = None, opening: int = OPENING, closing: int = CLOSING) -> bytes:
    moves = MOVES if moves is None else moves
    document = {
        "accountStatement": {
            "info": {
                "accountId": "2801234578",
                "bankId": "2010",
                "currency": "CZK",
                "iban": "CZ0520100000002801234578",
                "bic": "FIOBCZPPXXX",
                "openingBalance": money(opening),
                "closingBalance": money(closing),
                "dateStart": "2026-11-02+0100",
                "dateEnd": "2026-11-06+0100",
                "yearList": None,
                "idList": None,
                "idFrom": int(moves[0][0]) if moves else None,
                "idTo": int(moves[-1][0]) if moves else None,
                "idLastDownload": None,
            },
            "transactionList": {"transaction": [fio_transaction(m) for m in moves]},
        }
    }
    text = json.dumps(document, ensure_ascii=False, indent=1)
    return re.sub(r'"@@(-?[0-9.]+)@@"', r"\1", text).encode()


def money(haler: int) -> str:
    # A placeholder that becomes a bare JSON number: amounts never pass through float.
    return f"@@{'-' if haler < 0 else ''}{kc(haler)}@@"


def main() -> None:
    files = {
        "fio_week.gpc": gpc(),
        "fio_week_camt053.xml": camt(),
        "fio_week_camt053_v08.xml": camt(version="08"),
        "fio_week.sta": mt940(),
        "fio_week.json": fio(),
        # broken variants
        "broken_truncated_camt053.xml": camt()[:2500],
        "broken_wrong_encoding_camt053.xml": camt().decode().encode("cp1250"),
        "broken_utf8.gpc": gpc().decode("cp1250").encode("utf-8"),
        "broken_truncated.gpc": gpc()[: 128 * 5 + 10 + 60],
        "broken_balance_mismatch.gpc": gpc(closing=CLOSING + 100),
        "broken_balance_mismatch_camt053.xml": camt(closing=CLOSING - 4500),
        "broken_balance_mismatch.sta": mt940(closing=CLOSING + 1),
        "broken_eur_camt053.xml": camt(currency="EUR"),
        "broken_line_in_eur_camt053.xml": camt(line_currency="EUR"),
        "broken_truncated_fio.json": fio()[:-300],
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
