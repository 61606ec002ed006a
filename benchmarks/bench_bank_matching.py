"""Benchmark: a statement of 100,000 lines against 100,000 open obligations, matched and
recorded (lines, payments created → paid through the batch state machine, receipts,
obligations credited, the monthly summary) in a fresh PostgreSQL database of its own.
Target < 10 s (stretch 5 s). Prints lines/s, the machine's load average before and after,
this process's CPU time and the CPU time of the PostgreSQL backend that served the import
(read from /proc when the server runs on this machine): on a shared machine the wall time
is mostly waiting for a CPU, the two CPU figures are what the import costs.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        /work/main/.venv/bin/python benchmarks/bench_bank_matching.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.banking.accounts import create_account  # noqa: E402
from app.banking.importing import import_statement  # noqa: E402
from app.banking.statements import Statement, StatementLine  # noqa: E402
from app.db import Base, db_session, make_engine  # noqa: E402
from app.models import BankLine, Municipality, OnboardingState, Payment, Receipt, Service  # noqa: E402
from app.regions import get_or_create_region  # noqa: E402

NAMES = ["Novák Jan", "Svobodová Marie", "Dvořák Petr", "Černá Jana", "Kučera Tomáš", "Veselá Lucie"]


def load_obligations(engine, service_id: int, municipality_id: int, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    rnd = random.Random(1)
    amounts = [rnd.randint(100, 5000) * 100 for _ in range(count)]
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(
                "COPY obligation (municipality_id, service_id, customer_id, payer_name, amount, amount_paid, "
                "variable_symbol, created_at, updated_at) FROM STDIN"
            ) as copy:
                for i, amount in enumerate(amounts):
                    copy.write_row([municipality_id, service_id, f"Z{i:07d}", NAMES[i % len(NAMES)], amount, 0,
                                    str(2026000000 + i), "2026-11-01", "2026-11-01"])  # fmt: skip
        raw.commit()
    finally:
        raw.close()
    return amounts


def make_statement(amounts: list[int], lines: int) -> Statement:
    """Mostly exact payments; some partial, some over, some with an unknown symbol."""
    rnd = random.Random(2)
    out = []
    for i in range(lines):
        owed = amounts[i % len(amounts)]
        roll = rnd.random()
        vs = str(2026000000 + i % len(amounts))
        amount = owed
        if roll < 0.05:
            amount = owed // 2
        elif roll < 0.08:
            amount = owed + 5000
        elif roll < 0.10:
            vs = str(3026000000 + i)
        line = StatementLine(
            booking_date=date(2026, 11, 2 + i % 5), amount=amount, currency="CZK", bank_id=str(26500000000 + i),
            variable_symbol=vs, counter_account=str(1000000000 + i), counter_bank_code="0800",
            counter_name=NAMES[i % len(NAMES)], message="Poplatek za odpady",
            checksum=hashlib.sha256(str(i).encode()).hexdigest(),
        )  # fmt: skip
        out.append(line)
    total = sum(line.amount for line in out)
    return Statement("camt053", "CZK", 0, total, tuple(out), account_number="2801234578", bank_code="2010")


def backend_cpu(pid: int | None) -> float | None:
    """Seconds of CPU the PostgreSQL backend ``pid`` has used (utime + stime), if visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    server = make_url(os.environ.get("DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "TESTING": True, "MAIL_SERVER": ""})
        with app.app_context():
            m = Municipality(region_id=get_or_create_region(db_session()).id, name="Obec Benchmark", slug="benchmark", ico="00262978",
                             onboarding_state=OnboardingState.ACTIVE)  # fmt: skip
            db_session.add(m)
            db_session.flush()
            s = Service(municipality_id=m.id, slug="odpad", name="Odpad", amount=50000, lookup_mode="required")
            db_session.add(s)
            db_session.flush()
            account = create_account(m.id, "2801234578/2010")
            db_session.commit()
            amounts = load_obligations(engine, s.id, m.id, args.lines)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            statement = make_statement(amounts, args.lines)
            print(f"{args.lines:,} lines against {len(amounts):,} open obligations; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
            pid = db_session.scalar(text("SELECT pg_backend_pid()"))
            server = backend_cpu(pid)
            t, cpu = time.perf_counter(), time.process_time()
            result = import_statement(account.id, statement, source="cli")
            db_session.commit()
            seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
            after = backend_cpu(pid)
            server_cpu = f"{after - server:.2f} s" if server is not None and after is not None else "not visible"
            print(f"matched and recorded: {seconds:.2f} s, {args.lines / seconds:,.0f} lines/s; "
                  f"{result.matched:,} matched, {result.unmatched:,} unmatched")  # fmt: skip
            print(f"CPU: this process {cpu:.2f} s, PostgreSQL backend {server_cpu}; "
                  f"load average after {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
            payments = db_session.scalar(select(func.count()).select_from(Payment).where(Payment.state == "paid"))
            receipts = db_session.scalar(select(func.max(Receipt.number)))
            print(f"paid payments {payments:,}, receipts up to no. {receipts:,}, "
                  f"lines {db_session.scalar(select(func.count()).select_from(BankLine)):,}")  # fmt: skip
            t = time.perf_counter()
            again = import_statement(account.id, statement, source="cli")
            db_session.commit()
            print(f"the same statement again: {time.perf_counter() - t:.2f} s, {again.new_lines} new lines")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
