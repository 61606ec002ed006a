"""Benchmark: parse a 100,000-line GPC and camt.053 statement (and MT940, Fio JSON).
Prints lines/s per format; matching and storage are measured elsewhere.

    /work/main/.venv/bin/python benchmarks/bench_statement_parse.py [--lines 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.banking.statements import parse_camt053, parse_fio_json, parse_gpc, parse_mt940  # noqa: E402

NAMES = ["Dvořák Jan", "Černá Marie", "Šťastný Jiří", "Řeháková Žaneta", "Kůň Ondřej", "Nováková Pavla"]
BANKS = ["0100", "0300", "0800", "2010", "5500", "6100"]
START = date(2026, 1, 1)


def movements(count: int, seed: int = 1) -> list[tuple[int, date, int, str, str, str, str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        amount = rnd.randint(100, 500_000) * (1 if rnd.random() < 0.95 else -1)
        rows.append((
            i + 1, START + timedelta(days=i * 365 // count), amount, f"{2026000000 + i}",
            f"{rnd.randint(1, 999999999):010d}", rnd.choice(BANKS), rnd.choice(NAMES),
        ))  # fmt: skip
    return rows


def kc(amount: int) -> str:
    return f"{'-' if amount < 0 else ''}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def gpc(rows: list) -> bytes:
    total = sum(r[2] for r in rows)
    debit = -sum(r[2] for r in rows if r[2] < 0)
    lines = [
        f"074000000280123457{'8'}{'Obec Benchmark':20}311225{0:014d}+{total:014d}{'+' if total >= 0 else '-'}"
        f"{debit:014d}0{total + debit:014d}0001311226{'':14}"
    ]
    for mid, day, amount, vs, account, bank, name in rows:
        d = day.strftime("%d%m%y")
        lines.append(
            f"0750000002801234578000000{account}{mid:013d}{abs(amount):012d}{'2' if amount > 0 else '1'}{vs}00{bank}0000"
            f"{0:010d}{d}{name:20}00203{d}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1250")


def camt(rows: list) -> bytes:
    total = sum(r[2] for r in rows)
    entries = "".join(
        f"<Ntry><Amt Ccy='CZK'>{kc(abs(amount))}</Amt><CdtDbtInd>{'CRDT' if amount > 0 else 'DBIT'}</CdtDbtInd>"
        f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{mid}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>/VS/{vs}</EndToEndId></Refs><RltdPties><Dbtr><Nm>{name}</Nm></Dbtr>"
        f"<DbtrAcct><Id><Othr><Id>{account.lstrip('0')}</Id></Othr></Id></DbtrAcct></RltdPties>"
        f"<RltdAgts><DbtrAgt><FinInstnId><Othr><Id>{bank}</Id></Othr></FinInstnId></DbtrAgt></RltdAgts>"
        f"<RmtInf><Ustrd>Poplatek</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        for mid, day, amount, vs, account, bank, name in rows
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'>"
        "<BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>CZ0520100000002801234578</IBAN></Id><Ccy>CZK</Ccy></Acct>"
        "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy='CZK'>0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>"
        f"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy='CZK'>{kc(abs(total))}</Amt>"
        f"<CdtDbtInd>{'CRDT' if total >= 0 else 'DBIT'}</CdtDbtInd></Bal>\n{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def mt940(rows: list) -> bytes:
    total = sum(r[2] for r in rows)
    lines = [":20:BENCH", ":25:CZ0520100000002801234578", ":28C:1/1", ":60F:C251231CZK0,00"]
    for mid, day, amount, vs, account, bank, name in rows:
        d = day.strftime("%y%m%d")
        lines.append(f":61:{d}{d[2:]}{'C' if amount > 0 else 'D'}{kc(abs(amount)).replace('.', ',')}NTRFNONREF//{mid}")
        lines.append(f":86:/VS/{vs}?20Platba?31{account.lstrip('0')}/{bank}?32{name}")
    lines += [f":62F:{'C' if total >= 0 else 'D'}261231CZK{kc(abs(total)).replace('.', ',')}", "-"]
    return ("\r\n".join(lines) + "\r\n").encode()


def fio(rows: list) -> bytes:
    def col(i: int, value: object) -> dict:
        return {"value": value, "name": "", "id": i}

    total = sum(r[2] for r in rows)
    transactions = [
        {
            "column0": col(0, f"{day}+0100"),
            "column1": col(1, f"@@{kc(amount)}@@"),
            "column2": col(2, account.lstrip("0")),
            "column3": col(3, bank),
            "column5": col(5, vs),
            "column10": col(10, name),
            "column14": col(14, "CZK"),
            "column16": col(16, "Platba"),
            "column22": col(22, mid),
        }  # fmt: skip
        for mid, day, amount, vs, account, bank, name in rows
    ]
    info = {"accountId": "2801234578", "bankId": "2010", "currency": "CZK", "openingBalance": "@@0.00@@",
            "closingBalance": f"@@{kc(total)}@@", "dateStart": "2026-01-01+0100", "dateEnd": "2026-12-31+0100"}  # fmt: skip
    text = json.dumps({"accountStatement": {"info": info, "transactionList": {"transaction": transactions}}})
    return re.sub(r'"@@(-?[0-9.]+)@@"', r"\1", text).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = movements(args.lines)
    print(f"{args.lines:,} lines per statement; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, make, parse in (
        ("GPC", gpc, parse_gpc),
        ("camt.053", camt, parse_camt053),
        ("MT940 (mt-940)", mt940, parse_mt940),
        ("Fio JSON", fio, parse_fio_json),
    ):
        data = make(rows)
        best, best_cpu = float("inf"), float("inf")
        for _ in range(args.runs):
            t, cpu = time.perf_counter(), time.process_time()
            statement = parse(data)
            best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - cpu)
        assert len(statement.lines) == args.lines, len(statement.lines)
        # CPU seconds beside wall seconds: on a shared machine the wall clock also counts waiting.
        print(
            f"{label:15} {len(data) / 1024 / 1024:5.1f} MB  best of {args.runs}: {best:5.2f} s "
            f"({best_cpu:5.2f} s CPU)  {args.lines / best:8,.0f} lines/s ({args.lines / best_cpu:8,.0f} per CPU second)"
        )
    print(
        "A real bank's camt.053 entry is 1-2 KB: at the 50 MB upload limit a file holds 25,000-50,000 entries; "
        "the one above is lean to fit 100,000."
    )


if __name__ == "__main__":
    main()
